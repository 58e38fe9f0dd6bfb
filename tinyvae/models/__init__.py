"""Part III: what p and q are -- priors, posteriors, likelihoods and the models they make.

Read prior.py, posterior.py (q(z|x)), likelihood.py (p(x|z)), then vae.py;
classifier.py is q(y|x) of the semi-supervised models.
"""

from .classifier import Classifier
from .likelihood import BernoulliLikelihood, GaussianLikelihood
from .posterior import GaussianPosterior
from .prior import StandardNormalPrior
from .vae import VAE

__all__ = [
    "VAE",
    "BernoulliLikelihood",
    "Classifier",
    "GaussianLikelihood",
    "GaussianPosterior",
    "StandardNormalPrior",
]
