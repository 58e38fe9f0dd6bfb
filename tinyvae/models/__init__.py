"""Part III: what p and q are -- priors, posteriors, likelihoods and the models they make.

Read prior.py, posterior.py (q(z|x)), likelihood.py (p(x|z)), latent.py (what
every such model shares: its parts, the checks at its doors), then vae.py;
hierarchical.py has two stochastic layers, iaf.py a richer q(z|x) (inverse
autoregressive flow); classifier.py is q(y|x) of the semi-supervised model m2.py;
dropout_mlp.py a classifier with (variational) dropout.
"""

from .classifier import Classifier
from .dropout_mlp import DropoutMLP
from .hierarchical import HierarchicalPosterior, HierarchicalPrior, HierarchicalVAE
from .iaf import IAFPosterior, IAFStep
from .likelihood import BernoulliLikelihood, GaussianLikelihood
from .m2 import M2
from .posterior import GaussianPosterior
from .prior import StandardNormalPrior
from .vae import VAE

__all__ = [
    "M2",
    "VAE",
    "BernoulliLikelihood",
    "Classifier",
    "DropoutMLP",
    "GaussianLikelihood",
    "GaussianPosterior",
    "HierarchicalPosterior",
    "HierarchicalPrior",
    "HierarchicalVAE",
    "IAFPosterior",
    "IAFStep",
    "StandardNormalPrior",
]
