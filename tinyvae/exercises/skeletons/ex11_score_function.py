"""Exercise 11: the score-function (REINFORCE) gradient, leave-one-out baseline.

For one example x and L samples z_l ~ q_phi(z|x), the bound is estimated by

    bound = 1/L sum_l f_l,      f_l = log p(x, z_l) - log q_phi(z_l|x).

The score-function estimator of its gradient in the encoder's parameters phi (the "naive"
estimator of AEVB (Kingma & Welling 2013) section 2.2; Paisley, Blei & Jordan 2012) holds
the samples z_l fixed, treats every f_l as a constant, and has the form

    grad_phi bound ~ sum_l c_l grad_phi log q_phi(z_l|x).

Find the coefficients c_l. The baseline version puts f_l - b_l in place of f_l, with the
leave-one-out baseline (Kool, van Hoof & Welling 2019), the mean of the other L - 1 samples:

    b_l = 1/(L - 1) sum_{k != l} f_k          (needs L >= 2)

score_coefficients(f, baseline) receives f, shape (L, B): f[l, b] = f_l of example b, the
samples along axis 0, the batch along axis 1. It returns c, shape (L, B), without
(baseline=False) or with (baseline=True) the baseline.

Check it with:  python -m tinyvae.exercises check ex11_score_function.py
"""

import numpy as np


def score_coefficients(f, baseline=False):
    """The coefficients c of grad_phi log q(z_l|x) in the score-function gradient.

    f: (L, B), f[l, b] = log p(x_b, z_lb) - log q(z_lb|x_b) for L samples z_lb ~ q(z|x_b),
       treated as constants (axis 0: the samples, axis 1: the batch).
    baseline: False, the plain estimator; True, with f_l - b_l in place of f_l, b_l the
       mean of f over the other L - 1 samples of the same example (needs L >= 2).
    Returns c, shape (L, B).
    """
    L = f.shape[0]
    # TODO: return the (L, B) coefficients, with or without the leave-one-out baseline.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(11, score_coefficients) else 1)
