"""Exercise 6: the backward pass of the diagonal Gaussian log-density.

    log N(x; mu, sigma^2) = -1/2 sum_j [ log 2 pi + logvar_j + (x_j - mu_j)^2 exp(-logvar_j) ]

summed over the last axis (AEVB appendix B and C.2); sigma^2 = exp(logvar).
x, mu, logvar are (B, D); log p and its upstream gradient dlogp are (B,).

    dL/dx      = dlogp * -(x - mu) / sigma^2
    dL/dmu     = dlogp *  (x - mu) / sigma^2
    dL/dlogvar = dlogp * 1/2 [ (x - mu)^2 / sigma^2 - 1 ]

Check it with:  python -m tinyvae.exercises check ex06_gaussian.py
"""

import numpy as np

import tinyvae as tv


class GaussianLogDensity(tv.GaussianLogDensity):
    """tinyvae's GaussianLogDensity (its forward), with your backward."""

    def backward(self, dlogp):
        # what forward kept: diff = x - mu and inv_var = exp(-logvar) = 1 / sigma^2, each
        # (B, D), and the shapes of the inputs (not needed here: all three are (B, D))
        diff, inv_var, x_shape, mu_shape, logvar_shape = self.take()
        # TODO: return (dx, dmu, dlogvar), each (B, D), from dlogp of shape (B,):
        # one value per row, which multiplies every entry of that row.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(6, GaussianLogDensity) else 1)
