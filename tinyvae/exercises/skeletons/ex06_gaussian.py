"""Exercise 6: the backward pass of the diagonal Gaussian log-density.

With sigma_j^2 = exp(logvar_j), summed over the last axis (AEVB appendix C.2, the Gaussian
MLP as encoder or decoder):

    log N(x; mu, sigma^2) = -1/2 sum_j [ log 2 pi + logvar_j + (x_j - mu_j)^2 exp(-logvar_j) ]

x, mu and logvar are (B, D); the output log p is (B,), one number per row. backward
receives dlogp, the gradient dL/d(log p), of shape (B,), and returns the tuple
(dL/dx, dL/dmu, dL/dlogvar), in the order of forward's inputs, each (B, D). The module has
no parameters of its own: self.grads is left alone. forward kept the standardized residual
r = (x - mu) / sigma rather than x - mu, since (x - mu)^2 can overflow where r^2 does not;
write the answer from r and 1 / sigma.

Check it with:  python -m tinyvae.exercises check ex06_gaussian.py
"""

import numpy as np

import tinyvae as tv


class GaussianLogDensity(tv.GaussianLogDensity):
    """tinyvae's GaussianLogDensity (its forward), with your backward."""

    def backward(self, dlogp):
        # what forward kept: r = (x - mu) / sigma and inv_sigma = exp(-logvar / 2) = 1 / sigma,
        # each (B, D), and the shapes of the inputs (not needed here: all three are (B, D))
        r, inv_sigma, x_shape, mu_shape, logvar_shape = self.take()
        # TODO: return (dL/dx, dL/dmu, dL/dlogvar), each (B, D), from dlogp of shape (B,),
        # one value per row.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(6, GaussianLogDensity) else 1)
