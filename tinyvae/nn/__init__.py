"""Part I: backpropagation by hand -- the module protocol and the layers built on it.

Read module.py (the contract), then linear.py, functional.py, activations.py, mlp.py.
"""

from .activations import ACTIVATIONS, ELU, Floor, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .functional import logsumexp, sigmoid, softplus
from .linear import Linear, init_weights
from .mlp import MLP
from .module import Module, Sequential, unbroadcast

__all__ = [
    "ACTIVATIONS",
    "ELU",
    "LeakyReLU",
    "Linear",
    "MLP",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Floor",
    "Softplus",
    "Tanh",
    "init_weights",
    "logsumexp",
    "sigmoid",
    "softplus",
    "unbroadcast",
]
