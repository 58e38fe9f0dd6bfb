"""Exercise 8: the backward pass of KL(N(mu, sigma^2) || N(0, I)).

    KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))      (AEVB appendix B)

summed over the last axis: mu, logvar are (B, J); KL and its upstream gradient dkl are (B,).

    dL/dmu     = dkl * mu
    dL/dlogvar = dkl * 1/2 (exp(logvar) - 1)

Check it with:  python -m tinyvae.exercises check ex08_kl.py
"""

import numpy as np

import tinyvae as tv


class StandardNormalKL(tv.StandardNormalKL):
    """tinyvae's StandardNormalKL (its forward), with your backward."""

    def backward(self, dkl):
        mu, var = self.take()  # mu and var = exp(logvar), each (B, J)
        # TODO: return (dmu, dlogvar), each (B, J), from dkl of shape (B,):
        # one value per row, which multiplies every entry of that row.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(8, StandardNormalKL) else 1)
