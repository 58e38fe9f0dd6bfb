"""Part II: log-densities, sampling and KL divergences, each with its backward pass.

Read reparameterize.py (AEVB section 2.4), then gaussian.py, bernoulli.py, kl.py.
"""

from .bernoulli import BernoulliLogDensity, BernoulliLogLikelihood
from .gaussian import LOG_2PI, GaussianLogDensity, StandardNormalLogDensity
from .kl import GaussianKL, StandardNormalKL, standard_normal_kl
from .reparameterize import Reparameterize, sample_eps

__all__ = [
    "LOG_2PI",
    "BernoulliLogDensity",
    "BernoulliLogLikelihood",
    "GaussianKL",
    "GaussianLogDensity",
    "Reparameterize",
    "StandardNormalKL",
    "StandardNormalLogDensity",
    "sample_eps",
    "standard_normal_kl",
]
