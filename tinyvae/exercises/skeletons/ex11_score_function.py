"""Exercise 11: the score-function (REINFORCE) gradient, leave-one-out baseline.

    grad_phi bound ~ sum_l c_l grad_phi log q(z_l|x)      (AEVB section 2.2)

    no baseline:    c_l = f_l / L
    leave-one-out:  c_l = (f_l - b_l) / L,  b_l = mean of f over the other L - 1 samples

Check it with:  python -m tinyvae.exercises check ex11_score_function.py
"""

import numpy as np


def score_coefficients(f, baseline=False):
    """The coefficients c of grad_phi log q(z_l|x) in the score-function gradient.

    f: (L, B), f[l, b] = log p(x_b, z_lb) - log q(z_lb|x_b) for L samples z_lb ~ q(z|x_b),
       treated as constants (axis 0: the samples, axis 1: the batch).
    baseline: False, c_l = f_l / L; True, c_l = (f_l - b_l) / L, where b_l is the mean
       of f over the other L - 1 samples of the same example (needs L >= 2).
    Returns c, shape (L, B).
    """
    L = f.shape[0]
    # TODO: return the (L, B) coefficients, with or without the leave-one-out baseline.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(11, score_coefficients) else 1)
