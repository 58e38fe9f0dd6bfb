"""A multilayer perceptron builder: Linear, activation, ..., Linear."""

import numpy as np

from .activations import ACTIVATIONS
from .linear import Linear
from .module import Sequential

# Initialisation that keeps activations well scaled for each nonlinearity.
DEFAULT_INIT = {"relu": "he_uniform", "leaky_relu": "he_uniform", "elu": "he_uniform",
                "tanh": "glorot_uniform", "sigmoid": "glorot_uniform",
                "softplus": "glorot_uniform"}


class MLP(Sequential):
    """``in_dim -> hidden[0] -> ... -> hidden[-1] -> out_dim``.

    Every hidden layer is followed by ``activation``; the output layer is
    linear, so the caller decides what the outputs mean (logits, ``mu`` and
    ``logvar``, ...). ``init`` defaults to He for the ReLU family and Glorot
    for saturating nonlinearities.
    """

    def __init__(self, in_dim, hidden, out_dim, activation="relu", init=None, rng=None,
                 dtype=np.float32):
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r}; expected one of {sorted(ACTIVATIONS)}"
            )
        if rng is None:
            rng = np.random.default_rng()
        init = init or DEFAULT_INIT[activation]
        sizes = [in_dim, *hidden, out_dim]
        if any(int(n) != n or n < 1 for n in sizes):
            raise ValueError(f"layer sizes must be positive integers, got {sizes}")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(Linear(fan_in, fan_out, init=init, rng=rng, dtype=dtype))
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)
        self.sizes, self.activation = sizes, activation
