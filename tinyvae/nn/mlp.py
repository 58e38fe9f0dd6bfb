"""A multilayer perceptron builder: Linear, activation, ..., Linear."""

import numpy as np

from ..validation import check_choice, check_dtype, check_int, check_rng, check_sizes
from .activations import ACTIVATIONS
from .linear import INITS, Linear
from .module import Sequential


class MLP(Sequential):
    """``in_dim -> hidden[0] -> ... -> hidden[-1] -> out_dim``.

    Every hidden layer is followed by ``activation``; the output layer is
    linear, so the caller decides what the outputs mean (logits, ``mu`` and
    ``logvar``, ...). ``init`` names a scheme of ``tinyvae.nn.linear.init_weights``.
    Glorot is the default for every activation (the README compares it with
    He's on the MNIST VAE of ``demos/aevb/vae.py``).
    ``input_grad=False`` makes backward skip the gradient of the input (use it
    when the input is data) and return None.
    """

    def __init__(
        self,
        in_dim,
        hidden,
        out_dim,
        activation="relu",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
        input_grad=True,
    ):
        # every argument is checked before the first weight is drawn from rng
        sizes = [
            check_int(in_dim, "in_dim"),
            *check_sizes(hidden, "hidden"),
            check_int(out_dim, "out_dim"),
        ]
        check_choice(activation, "activation", ACTIVATIONS)
        check_choice(init, "init", INITS)
        dtype = check_dtype(dtype)
        rng = np.random.default_rng() if rng is None else check_rng(rng, "MLP")
        layers = []
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(
                Linear(
                    fan_in, fan_out, init=init, rng=rng, dtype=dtype, input_grad=input_grad or i > 0
                )
            )
            if i < len(sizes) - 2:
                layers.append(ACTIVATIONS[activation]())
        super().__init__(*layers)
        self.sizes, self.activation = sizes, activation
