"""Exercise 18: one step of Adam, Algorithm 1 of Kingma & Ba (2014).

    t <- t + 1
    m <- beta1 m + (1 - beta1) g,       v <- beta2 v + (1 - beta2) g^2
    m_hat = m / (1 - beta1^t),          v_hat = v / (1 - beta2^t)
    theta <- theta - lr m_hat / (sqrt(v_hat) + eps)

Check it with:  python -m tinyvae.exercises check ex18_adam.py
"""

import numpy as np


def adam_step(theta, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam step; returns (theta_new, m_new, v_new, t_new).

    theta: the parameters; g: the gradient of the loss at theta (same shape);
    m, v: the moment estimates after t steps (zeros when t = 0), same shape;
    t: the number of steps taken before this one (an int).
    Do not modify theta, g, m or v: return new arrays.
    """
    # TODO: Algorithm 1, one step: t, m, v, the bias corrections, then theta.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(18, adam_step) else 1)
