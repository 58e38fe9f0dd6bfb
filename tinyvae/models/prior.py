"""The prior p(z) = N(0, I) of AEVB section 3, as a part a model exposes.

``forward(z) -> log p(z)`` and ``backward(dlog_p) -> dz`` follow the module
protocol; ``log_prob`` evaluates without keeping a cache, ``sample`` draws z.
"""

from ..distributions.gaussian import StandardNormalLogDensity
from ..distributions.reparameterize import sample_eps
from ..nn.module import Module
from ..validation import check_int


class StandardNormalPrior(Module):
    """p(z) = N(z; 0, I) over ``z_dim`` latent dimensions."""

    standard_normal = True  # a Gaussian q has a closed-form KL from it (AEVB appendix B)

    def __init__(self, z_dim, dtype):
        super().__init__()
        self.z_dim, self.dtype = z_dim, dtype
        self.density = StandardNormalLogDensity()

    def __repr__(self):
        return f"StandardNormalPrior(z_dim={self.z_dim})"

    def forward(self, z):
        """log p(z) summed over the latent dimensions: (..., J) -> (...)."""
        self.save()  # nothing to keep but the record that a forward pass ran
        return self.density.forward(z)

    def backward(self, dlog_p):
        """dlog p(z)/dz = -z, times the upstream gradient."""
        self.take()
        return self.density.backward(dlog_p)

    def log_prob(self, z):
        """log p(z), keeping nothing for a backward pass."""
        log_p = self.density.forward(z)
        self.clear_cache()
        return log_p

    def sample(self, n, rng):
        """n draws z ~ N(0, I), shape (n, J)."""
        return sample_eps(rng, (check_int(n, "n"), self.z_dim), self.dtype)
