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
        inv_var = np.exp(-logvar)
        diff = x - mu
        self.cache = (diff, inv_var, np.shape(x), np.shape(mu), np.shape(logvar))
        return -0.5 * np.sum(LOG_2PI + logvar + diff * diff * inv_var, axis=-1)

    def backward(self, dlogp):
        diff, inv_var, x_shape, mu_shape, logvar_shape = self._pop_cache()
        g = dlogp[..., None]
        # d/dmu = (x - mu) / sigma^2
        dmu = g * diff * inv_var
        # d/dx = -(x - mu) / sigma^2
        dx = -dmu
        # d/dlogvar = 1/2 ((x - mu)^2 / sigma^2 - 1)
        dlogvar = g * 0.5 * (diff * diff * inv_var - 1.0)
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
        self.cache = z
        return -0.5 * np.sum(LOG_2PI + z * z, axis=-1)

    def backward(self, dlogp):
        z = self._pop_cache()
        # d/dz = -z
        return -dlogp[..., None] * z
