"""MADE: an MLP made autoregressive by masks (Germain, Gregor, Murray & Larochelle 2015).

Give every input variable i a degree d_i in 1..D (its place in an order),
every hidden unit k a degree m_k in 1..D-1, and output i (of each head) the
degree of input i. Keep a connection

    into a hidden unit   from a unit of degree d   when  m_k >= d,
    into an output       from a unit of degree m   when  d_i > m    (strict),

(Germain et al. 2015, eqs. 12-13). A path from input j to output i then has
degrees d_j <= m <= ... < d_i, so output i depends only on the inputs that
come before it in the order: the Jacobian d out_i / d z_j is exactly zero
unless d_j < d_i. That is what inverse autoregressive flow needs (Kingma et
al. 2016, section 3): its Jacobian is triangular and its log-determinant a sum.

A context ``h`` (what the encoder says about x) enters the first hidden layer
through an unmasked weight matrix V: it may inform every output that has a
hidden unit below it. The first variable in the order has none (no hidden
unit has a degree below 1), so its outputs are biases alone.

Read ``made_degrees`` and ``made_masks`` first; ``MADE`` stacks
``MaskedLinear`` layers with them.
"""

import numpy as np

from ..validation import check_choice, check_dtype, check_int, check_rng, check_sizes
from .activations import ACTIVATIONS
from .linear import INITS, init_weights
from .masked_linear import MaskedLinear
from .module import Module

HIDDEN_DEGREES = ("natural", "random")


def check_order(order, n_in):
    """A permutation of 0..n_in-1 (order[i] = the place of variable i); None: 0, 1, ..."""
    if order is None:
        return np.arange(n_in)
    order = np.asarray(order)
    if order.shape != (n_in,) or order.dtype.kind not in "iu":
        raise ValueError(
            f"order: expected {n_in} integers (a permutation of 0..{n_in - 1}), "
            f"got shape {order.shape} and dtype {order.dtype}"
        )
    if not np.array_equal(np.sort(order), np.arange(n_in)):
        raise ValueError(f"order: expected a permutation of 0..{n_in - 1}, got {order.tolist()}")
    return order.astype(np.int64)


def made_degrees(n_in, hidden, order=None, hidden_degrees="natural", rng=None):
    """The degrees of the inputs and of each hidden layer: a list of integer arrays.

    Input i has degree ``order[i] + 1``. A hidden layer's degrees lie in
    [lo, n_in - 1], lo the smallest degree of the layer below (never above
    n_in - 1), so no unit is left without inputs that could reach an output:
    ``"natural"`` cycles through that range, ``"random"`` draws from it with
    ``rng`` (Germain et al. 2015, section 4.2). With n_in = 1 the range is
    {0}: hidden units see only the context and the biases.
    """
    n_in = check_int(n_in, "n_in")
    hidden = check_sizes(hidden, "hidden")
    check_choice(hidden_degrees, "hidden_degrees", HIDDEN_DEGREES)
    degrees = [check_order(order, n_in) + 1]
    if hidden_degrees == "random":
        check_rng(rng, "made_degrees (hidden_degrees='random')")
    for size in hidden:
        lo = min(int(degrees[-1].min()), n_in - 1)
        if hidden_degrees == "natural":
            degrees.append(lo + np.arange(size) % (n_in - lo))
        else:
            degrees.append(rng.integers(lo, n_in, size=size))
    return degrees


def made_masks(degrees, heads=1):
    """The masks (in, out) of each layer, for degrees from ``made_degrees``.

    Hidden layers keep ``m_out >= m_in``; the output layer keeps
    ``d_out > m_in`` and repeats its columns once per head (each head's
    output i has the degree of input i).
    """
    heads = check_int(heads, "heads")
    masks = [deg_out[None, :] >= deg_in[:, None] for deg_in, deg_out in zip(degrees, degrees[1:])]
    output = np.tile(degrees[0], heads)  # output i of every head has input i's degree
    masks.append(output[None, :] > degrees[-1][:, None])
    return masks


def connectivity(masks):
    """Which output each input can reach: the product of the masks, as booleans (in, out)."""
    paths = masks[0].astype(np.int64)
    for mask in masks[1:]:
        paths = paths @ mask.astype(np.int64)  # counts the paths; > 0 means connected
    return paths > 0


def format_mask(mask):
    """A mask as text: one row per input, ``1`` for a connection and ``.`` for none."""
    return "\n".join("".join("1" if kept else "." for kept in row) for row in np.asarray(mask))


class MADE(Module):
    """An autoregressive MLP ``z (B, D) [, h (B, C)] -> heads arrays (B, D)``.

    Output i of each head depends on z only through the inputs before i in
    ``order``, and on the context h freely (but see the module docstring for
    the first variable). ``order[i]`` is the place of variable i in the
    order, a permutation of 0..D-1 (None: 0, 1, ..., D-1): ``order=[2, 0, 1]``
    puts variable 1 first and variable 0 last. ``hidden`` are the hidden
    layers' sizes (at least one), ``hidden_degrees`` how their degrees are
    chosen (``"random"`` draws them from ``rng``, like the weights).
    ``forward(z)`` or ``forward(z, h)`` returns one array per head (a bare
    array for ``heads=1``); ``backward`` takes one gradient per head and
    returns ``(dz, dh)``, ``dh = None`` without a context. Like every layer it
    trusts its caller's arrays (the model's doors check them); it checks only
    that a context comes exactly when it was built to read one.
    """

    def __init__(
        self,
        z_dim,
        hidden,
        heads=1,
        context_dim=0,
        order=None,
        hidden_degrees="natural",
        activation="elu",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        # every argument is checked before the first weight is drawn from rng
        self.z_dim = check_int(z_dim, "z_dim")
        self.hidden = check_sizes(hidden, "hidden")
        if not self.hidden:
            raise ValueError("hidden: expected at least one hidden layer, got none")
        self.heads = check_int(heads, "heads")
        self.context_dim = check_int(context_dim, "context_dim", minimum=0)
        self.order = check_order(order, self.z_dim)
        check_choice(hidden_degrees, "hidden_degrees", HIDDEN_DEGREES)
        check_choice(activation, "activation", ACTIVATIONS)
        check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng() if rng is None else check_rng(rng, "MADE")

        self.degrees = made_degrees(self.z_dim, self.hidden, self.order, hidden_degrees, rng)
        self.masks = made_masks(self.degrees, self.heads)
        self.layers = []
        for i, mask in enumerate(self.masks):
            self.layers.append(MaskedLinear(mask, init, rng, self.dtype))
            if i < len(self.masks) - 1:
                self.layers.append(ACTIVATIONS[activation]())
        if self.context_dim:
            # h -> the first hidden layer, unmasked: no order constrains the context
            V, _ = init_weights(init, self.context_dim, self.hidden[0], rng, self.dtype)
            self.add_param("V", V)

    def __repr__(self):
        sizes = " -> ".join(str(s) for s in (self.z_dim, *self.hidden, self.heads * self.z_dim))
        context = f", context {self.context_dim}" if self.context_dim else ""
        return f"MADE({sizes}{context}, order {self.order.tolist()})"

    def connectivity(self):
        """(D, heads * D) booleans: may output column j depend on input i?"""
        return connectivity(self.masks)

    def forward(self, z, h=None):
        if (h is None) != (not self.context_dim):
            raise ValueError(
                f"h: this MADE was built with context_dim={self.context_dim}; "
                + ("pass a context of that width" if self.context_dim else "it takes no context")
            )
        a = self.layers[0].forward(z)
        if self.context_dim:
            a += h @ self.params["V"]  # the unmasked context term of the first pre-activation
        self.save(h)
        for layer in self.layers[1:]:
            a = layer.forward(a)
        if self.heads == 1:
            return a
        D = self.z_dim
        return tuple(a[:, k * D : (k + 1) * D] for k in range(self.heads))

    def backward(self, *douts):
        h = self.take()
        da = douts[0] if self.heads == 1 else np.concatenate(douts, axis=1)
        for layer in reversed(self.layers[1:]):
            da = layer.backward(da)
        # da is now dL/d(first pre-activation) = dL/d(z W0 M0 + b0 + h V)
        dz = self.layers[0].backward(da)
        if not self.context_dim:
            return dz, None
        self.grads["V"] += h.T @ da  # dL/dV = h^T dL/da
        return dz, da @ self.params["V"].T  # dL/dh = dL/da V^T
