"""tinyvae: variational autoencoders in NumPy, every backward pass by hand.

Read the source in this order: module, linear, activations, mlp,
reparameterize, gaussian, bernoulli, kl, vae, optim, gradcheck, then train,
checkpoint and the data modules (batching, datasets, mnist, synthetic_digits).
"""

from . import gradcheck
from .activations import ELU, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh, sigmoid, softplus
from .batching import batches, binarize
from .bernoulli import BernoulliLogLikelihood
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .datasets import Dataset, load_dataset
from .gaussian import GaussianLogDensity
from .kl import GaussianKL, StandardNormalKL
from .linear import Linear, init_weights
from .mlp import MLP
from .module import Module, Sequential
from .optim import SGD, AdaGrad, Adam, Optimizer
from .reparameterize import Reparameterize, sample_eps
from .train import History, TrainingDiverged, fit
from .vae import VAE

__version__ = "0.1.0"
