"""Exercise 8: the backward pass of KL(N(mu, sigma^2) || N(0, I)).

The regularizer of SGVB estimator B in closed form (AEVB (Kingma & Welling 2013)
appendix B), with sigma_j^2 = exp(logvar_j), summed over the latent dimensions (the last
axis), one number per example:

    KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))

mu and logvar are (B, J); KL is (B,). Forward (given) cached mu and var = exp(logvar).
backward(dkl) receives the upstream gradient dkl, shape (B,), one value per row, and
returns (dmu, dlogvar), the gradients of the loss in mu and in logvar, each (B, J). The
module has no parameters: self.grads is left alone.

Check it with:  python -m tinyvae.exercises check ex08_kl.py
"""

import numpy as np

import tinyvae as tv


class StandardNormalKL(tv.StandardNormalKL):
    """tinyvae's StandardNormalKL (its forward), with your backward."""

    def backward(self, dkl):
        mu, var = self.take()  # mu and var = exp(logvar), each (B, J)
        # TODO: return (dmu, dlogvar), each (B, J), from dkl of shape (B,).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(8, StandardNormalKL) else 1)
