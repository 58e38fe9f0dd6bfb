"""The reparameterization trick for a diagonal Gaussian (AEVB section 2.4).

Instead of sampling z ~ N(mu, sigma^2) directly, sample noise that does not
depend on the parameters and transform it:

    z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I)

so z is a differentiable function of (mu, logvar) and gradients flow through
the sample into the encoder.
"""

import numpy as np

from ..nn.module import Module, unbroadcast
from ..validation import check_rng


def sample_eps(rng, shape, dtype=np.float32):
    """Standard normal noise ``eps`` of the given shape, drawn from ``rng``."""
    check_rng(rng, "sample_eps")
    return rng.standard_normal(shape, dtype=dtype)


class Reparameterize(Module):
    """``forward(mu, logvar, eps) -> z = mu + exp(logvar / 2) * eps``.

    ``mu`` and ``logvar`` have shape (B, J). ``eps`` has shape (B, J) or
    (L, B, J) for L samples per example; ``z`` then has the shape of ``eps``.
    ``backward(dz) -> (dmu, dlogvar, None)``, summed over the L samples; ``eps``
    is noise, so its gradient is ``None``.
    """

    def forward(self, mu, logvar, eps):
        sigma = np.exp(0.5 * logvar)
        self.save(sigma, eps, np.shape(mu), np.shape(logvar))
        return mu + sigma * eps

    def backward(self, dz):
        sigma, eps, mu_shape, logvar_shape = self.take()
        # dz/dmu = 1
        dmu = dz
        # dz/dlogvar = eps * dsigma/dlogvar = eps * sigma / 2
        dlogvar = dz * eps * (0.5 * sigma)
        # with L samples every sample's path adds to the same (mu, logvar)
        return unbroadcast(dmu, mu_shape), unbroadcast(dlogvar, logvar_shape), None
