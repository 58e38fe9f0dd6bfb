"""Analytic KL divergences between diagonal Gaussians (AEVB appendix B).

    KL(N(mu, sigma^2) || N(0, I)) = 1/2 sum_j (sigma_j^2 + mu_j^2 - 1 - logvar_j)

    KL(N(mu1, sigma1^2) || N(mu2, sigma2^2))
        = 1/2 sum_j [ logvar2 - logvar1 + (sigma1^2 + (mu1 - mu2)^2) / sigma2^2 - 1 ]

Both are summed over the last axis (the latent dimensions), one value per
example. The first is the regularizer of SGVB estimator B (AEVB eq. 10).
"""

import numpy as np

from ..nn.module import Module


def standard_normal_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) summed over the last axis (AEVB appendix B)."""
    return 0.5 * np.sum(np.exp(logvar) + mu * mu - 1.0 - logvar, axis=-1)


class StandardNormalKL(Module):
    """``forward(mu, logvar) -> KL(N(mu, exp(logvar)) || N(0, I))``, shape (B,).

    ``backward(dkl) -> (dmu, dlogvar)``.
    """

    def forward(self, mu, logvar):
        var = np.exp(logvar)
        self.save(mu, var)
        return 0.5 * np.sum(var + mu * mu - 1.0 - logvar, axis=-1)

    def backward(self, dkl):
        mu, var = self.take()
        g = dkl[..., None]
        # dKL/dmu = mu;  dKL/dlogvar = (sigma^2 - 1) / 2
        return g * mu, g * 0.5 * (var - 1.0)


class GaussianKL(Module):
    """``forward(mu1, logvar1, mu2, logvar2) -> KL(q1 || q2)`` for diagonal Gaussians.

    ``backward(dkl) -> (dmu1, dlogvar1, dmu2, dlogvar2)``.
    """

    def forward(self, mu1, logvar1, mu2, logvar2):
        inv_var2 = np.exp(-logvar2)
        var1 = np.exp(logvar1)
        diff = mu1 - mu2
        self.save(diff, var1, inv_var2)
        return 0.5 * np.sum(logvar2 - logvar1 + (var1 + diff * diff) * inv_var2 - 1.0, axis=-1)

    def backward(self, dkl):
        diff, var1, inv_var2 = self.take()
        g = dkl[..., None]
        # dKL/dmu1 = (mu1 - mu2) / sigma2^2, and the opposite for mu2
        dmu1 = g * diff * inv_var2
        # dKL/dlogvar1 = (sigma1^2 / sigma2^2 - 1) / 2
        dlogvar1 = g * 0.5 * (var1 * inv_var2 - 1.0)
        # dKL/dlogvar2 = (1 - (sigma1^2 + (mu1 - mu2)^2) / sigma2^2) / 2
        dlogvar2 = g * 0.5 * (1.0 - (var1 + diff * diff) * inv_var2)
        return dmu1, dlogvar1, -dmu1, dlogvar2
