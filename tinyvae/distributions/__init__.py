"""Part II: log-densities, sampling and KL divergences, each with its backward pass.

Read reparameterize.py (AEVB section 2.4), then gaussian.py, bernoulli.py, kl.py,
and categorical.py (the label distribution of the semi-supervised models);
energies.py has 2-D unnormalized targets for fitting flows.
"""

from .bernoulli import BernoulliLogDensity, BernoulliLogLikelihood
from .categorical import (
    CategoricalEntropy,
    CategoricalExpectation,
    CategoricalLogDensity,
    log_softmax,
    one_hot,
    sample_categorical,
)
from .gaussian import LOG_2PI, GaussianLogDensity, StandardNormalLogDensity
from .kl import GaussianKL, StandardNormalKL, standard_normal_kl
from .reparameterize import Reparameterize, sample_eps

__all__ = [
    "LOG_2PI",
    "BernoulliLogDensity",
    "BernoulliLogLikelihood",
    "CategoricalEntropy",
    "CategoricalExpectation",
    "CategoricalLogDensity",
    "GaussianKL",
    "GaussianLogDensity",
    "Reparameterize",
    "StandardNormalKL",
    "StandardNormalLogDensity",
    "log_softmax",
    "one_hot",
    "sample_categorical",
    "sample_eps",
    "standard_normal_kl",
]
