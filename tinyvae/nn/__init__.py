"""Part I: backpropagation by hand -- the module protocol and the layers built on it.

Read module.py (the contract), then linear.py, functional.py, activations.py, mlp.py;
masked_linear.py and made.py build the autoregressive networks of inverse autoregressive flow;
bayes_linear.py is a layer with Gaussian weights and the local reparameterization trick,
gaussian_dropout.py Gaussian and variational dropout (types A and B);
labelled_linear.py is the first layer of M2's encoder, which reads an example and a label.
"""

from .activations import ACTIVATIONS, ELU, Floor, LeakyReLU, ReLU, Sigmoid, Softplus, Tanh
from .bayes_linear import BayesianLinear
from .functional import logsumexp, sigmoid, softplus
from .gaussian_dropout import GaussianDropoutLinear
from .labelled_linear import LabelledLinear, LabelledRows
from .linear import Linear, init_weights
from .made import MADE, connectivity, format_mask, made_degrees, made_masks
from .masked_linear import MaskedLinear
from .mlp import MLP
from .module import Module, Sequential, unbroadcast

__all__ = [
    "BayesianLinear",
    "ACTIVATIONS",
    "ELU",
    "GaussianDropoutLinear",
    "LabelledLinear",
    "LabelledRows",
    "LeakyReLU",
    "Linear",
    "MADE",
    "MLP",
    "MaskedLinear",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Floor",
    "Softplus",
    "Tanh",
    "connectivity",
    "format_mask",
    "init_weights",
    "logsumexp",
    "made_degrees",
    "made_masks",
    "sigmoid",
    "softplus",
    "unbroadcast",
]
