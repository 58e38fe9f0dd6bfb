"""The log-density of a diagonal Gaussian, and of the standard normal, with gradients.

    log N(x; mu, sigma^2) = -1/2 sum_j [ log 2 pi + logvar_j + (x_j - mu_j)^2 / sigma_j^2 ]

summed over the last axis (AEVB appendix B writes out the same terms). It is
the likelihood of the Gaussian decoder for continuous data (AEVB appendix
C.2, learned log-variance), the density of q(z|x) at a given z, and with
mu = 0, logvar = 0 the prior p(z) = N(0, I).
"""

import numpy as np

from ..nn.module import Module, unbroadcast

LOG_2PI = float(np.log(2.0 * np.pi))


class GaussianLogDensity(Module):
    """``forward(x, mu, logvar) -> log N(x; mu, exp(logvar))`` summed over the last axis.

    Inputs broadcast against each other; the output has their broadcast shape
    without the last axis. ``backward(dlogp) -> (dx, dmu, dlogvar)``, each
    reduced back to its input's shape.
    """

    def forward(self, x, mu, logvar):
        # r = (x - mu) / sigma, the standardized residual: (x - mu)^2 / sigma^2 is r^2.
        # Written with r, not as (x - mu)^2 * exp(-logvar), because with a large logvar
        # (+80 in float32) (x - mu)^2 overflows although r^2 is of order one.
        inv_sigma = np.exp(-0.5 * logvar)
        r = (x - mu) * inv_sigma
        self.save(r, inv_sigma, np.shape(x), np.shape(mu), np.shape(logvar))
        return -0.5 * np.sum(LOG_2PI + logvar + r * r, axis=-1)

    def backward(self, dlogp):
        r, inv_sigma, x_shape, mu_shape, logvar_shape = self.take()
        g = dlogp[..., None]
        # d/dmu = (x - mu) / sigma^2 = r / sigma (r / sigma first: g * r may overflow)
        dmu = g * (r * inv_sigma)
        # d/dx = -(x - mu) / sigma^2
        dx = -dmu
        # d/dlogvar = 1/2 ((x - mu)^2 / sigma^2 - 1) = 1/2 (r^2 - 1)
        dlogvar = g * 0.5 * (r * r - 1.0)
        return (
            unbroadcast(dx, x_shape),
            unbroadcast(dmu, mu_shape),
            unbroadcast(dlogvar, logvar_shape),
        )


class StandardNormalLogDensity(Module):
    """``forward(z) -> log N(z; 0, I) = -1/2 sum_j (log 2 pi + z_j^2)``, over the last axis.

    ``backward(dlogp) -> dz``.
    """

    def forward(self, z):
        self.save(z)
        return -0.5 * np.sum(LOG_2PI + z * z, axis=-1)

    def backward(self, dlogp):
        z = self.take()
        # d/dz = -z
        return -dlogp[..., None] * z
