"""tinyvae: variational autoencoders in NumPy, every backward pass by hand.

Read the source in this order: module, linear, activations, mlp,
reparameterize, gaussian, bernoulli, kl, vae, optim, gradcheck, evaluation,
gradient_variance, weight_prior, wake_sleep, then train, checkpoint and the
data modules (batching, datasets, mnist, synthetic_digits, frey, binarized_mnist).
"""

from . import gradcheck
from .activations import ELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, sigmoid, softplus
from .batching import batches, binarize
from .bernoulli import BernoulliLogLikelihood
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .datasets import Dataset, load_dataset
from .evaluation import active_units, log_likelihood
from .gaussian import GaussianLogDensity
from .kl import GaussianKL, StandardNormalKL
from .linear import Linear, init_weights
from .mlp import MLP
from .module import Module, Sequential
from .optim import SGD, AdaGrad, Adam, Optimizer
from .reparameterize import Reparameterize, sample_eps
from .train import History, TrainingDiverged, fit
from .vae import VAE
from .wake_sleep import WakeSleep, fit_wake_sleep
from .weight_prior import add_weight_prior

__version__ = "0.1.0"
