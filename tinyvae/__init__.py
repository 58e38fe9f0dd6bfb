"""tinyvae: variational autoencoders in NumPy, every backward pass by hand.

Read the source in this order: module, linear, activations, mlp,
reparameterize, gaussian, bernoulli, kl, vae, optim, gradcheck, then the data
and training utilities.
"""

from . import gradcheck
from .activations import ELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, sigmoid, softplus
from .bernoulli import BernoulliLogLikelihood
from .gaussian import GaussianLogDensity
from .kl import GaussianKL, StandardNormalKL
from .linear import Linear, init_weights
from .mlp import MLP
from .module import Module, Sequential
from .optim import SGD, AdaGrad, Adam, Optimizer
from .reparameterize import Reparameterize, sample_eps
from .vae import VAE

__version__ = "0.1.0"
