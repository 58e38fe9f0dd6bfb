"""Exercise 19: find the bug in this Adam step (Kingma & Ba 2014, section 2).

It should return exactly what Algorithm 1 returns:

    t <- t + 1
    m <- beta1 m + (1 - beta1) g,       v <- beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t),          v_hat = v / (1 - beta2^t)
    theta <- theta - lr m_hat / (sqrt(v_hat) + eps)

Check it with:  python -m tinyvae.exercises check ex19_adam_bug.py
"""

import numpy as np


def adam_step(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step; returns (theta_new, m_new, v_new, t_new).

    theta: the parameters; g: the gradient of the loss at theta (same shape);
    m, v: the moment estimates after t steps (zeros when t = 0), same shape;
    t: the number of steps taken before this one (an int).
    """
    t = t + 1
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    # the bias corrections, folded into the step size (Adam section 2)
    lr_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t)
    theta = theta - lr * m / (np.sqrt(v) + eps_hat)
    # TODO: the step above has a bug. Find it, fix it, then delete the next line.
    raise NotImplementedError
    return theta, m, v, t


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(19, adam_step) else 1)
