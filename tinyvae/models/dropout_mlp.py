"""A softmax classifier with dropout of one kind or another (Kingma, Salimans & Welling 2015, §5).

    p(y|x, W) = Cat(y; softmax(f(x; W))),  f an MLP whose layers get noise by ``dropout``:

    "none"            plain linear layers
    "binary"          binary dropout of rate p on every layer's inputs (Srivastava et al. 2014)
    "gaussian_A"      Gaussian dropout on every layer's inputs, alpha = p / (1 - p) fixed
    "gaussian_B"      independent Gaussian weight noise N(theta, alpha theta^2), alpha fixed,
                      sampled by the local reparameterization trick
    "variational_A"   type A with alpha learned (variational dropout, section 3.3)
    "variational_A2"  the same, with the KL divided by 3 (the paper's A2)
    "variational_B"   type B with alpha learned

``forward(x, noise)`` takes one noise array per layer (``noise(batch, rng)``
draws them), ``forward(x)`` is the test-time network (the noise at its mean).
The model says what p(y|x, W) and q(W) are; the variational objective and
its KL live in ``tinyvae.objectives.variational_dropout``.
"""

import numpy as np

from ..distributions.categorical import log_softmax
from ..nn.activations import ACTIVATIONS
from ..nn.dropout import DropoutLinear
from ..nn.gaussian_dropout import GRANULARITIES, SAMPLINGS, GaussianDropoutLinear
from ..nn.linear import INITS
from ..nn.module import Module
from ..validation import (
    check_choice,
    check_dtype,
    check_float,
    check_input,
    check_int,
    check_labels,
    check_rng,
    check_sizes,
)

DROPOUTS = (
    "none",
    "binary",
    "gaussian_A",
    "gaussian_B",
    "variational_A",
    "variational_A2",
    "variational_B",
)


class DropoutMLP(Module):
    """``in_dim -> hidden... -> n_classes`` logits, every layer with ``dropout``.

    ``p`` is the dropout rate (binary dropout's, or alpha = p / (1 - p) for
    the Gaussian kinds, where it is also the learned rates' start).
    ``granularity`` says how many rates a variational layer learns: one per
    layer, per unit, or (type B) per weight. ``sampling`` is how type B draws
    its noise: "local" (the local reparameterization trick), or weight
    samples, "separate" per example or one "shared" by the minibatch.
    """

    family = "classifier"  # the objectives that take it: validation.check_model

    def __init__(
        self,
        in_dim,
        hidden=(100,),
        n_classes=10,
        dropout="none",
        p=0.5,
        granularity="layer",
        sampling="local",
        activation="relu",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        self.in_dim = check_int(in_dim, "in_dim")
        self.hidden = check_sizes(hidden, "hidden")
        self.n_classes = check_int(n_classes, "n_classes", minimum=2)
        self.dropout = check_choice(dropout, "dropout", DROPOUTS)
        self.p = check_float(p, "p", 0.0, 1.0, high_open=True)
        self.granularity = check_choice(granularity, "granularity", GRANULARITIES)
        self.sampling = check_choice(sampling, "sampling", SAMPLINGS)
        if sampling != "local" and not dropout.endswith("_B"):
            raise ValueError("sampling: weight samples ('separate', 'shared') are for type B")
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        gaussian = dropout.startswith(("gaussian", "variational"))
        if gaussian and self.p == 0.0:
            raise ValueError("p: Gaussian dropout needs a rate above 0 (alpha = p / (1 - p) > 0)")
        if dropout.endswith(("A", "A2")) and granularity == "weight":
            raise ValueError("granularity: type A learns a rate per 'layer' or per 'unit'")
        rng = np.random.default_rng() if rng is None else check_rng(rng, "DropoutMLP")
        sizes = [self.in_dim, *self.hidden, self.n_classes]
        self.layers, self.activations = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            if gaussian:
                kind = "A" if "_A" in dropout else "B"
                alpha = self.p / (1.0 - self.p)
                learn = dropout.startswith("variational")
                layer = GaussianDropoutLinear(
                    fan_in,
                    fan_out,
                    kind,
                    alpha,
                    learn,
                    granularity,
                    sampling,
                    init,
                    rng,
                    self.dtype,
                )
            else:  # p = 0 without dropout: a plain linear layer
                p = self.p if dropout == "binary" else 0.0
                layer = DropoutLinear(fan_in, fan_out, p, init, rng, self.dtype)
            self.layers.append(layer)
        self.activations = [ACTIVATIONS[activation]() for _ in self.hidden]
        # the paper's A2: type A with its KL divided by 3 (the objective applies it)
        self.kl_scale = 1.0 / 3.0 if dropout == "variational_A2" else 1.0

    def config(self):
        """The constructor arguments that fix what the parameters mean (saved in checkpoints)."""
        return {
            "in_dim": self.in_dim,
            "hidden": list(self.hidden),
            "n_classes": self.n_classes,
            "dropout": self.dropout,
            "p": self.p,
            "granularity": self.granularity,
            "activation": self.activation,
        }

    def __repr__(self):
        sizes = " -> ".join(map(str, (self.in_dim, *self.hidden, self.n_classes)))
        return f"DropoutMLP({sizes}, dropout={self.dropout!r}, p={self.p})"

    def set_sampling(self, sampling):
        """Switch how type B layers draw their noise (to compare the three ways)."""
        check_choice(sampling, "sampling", SAMPLINGS)
        if not self.dropout.endswith("_B"):
            raise ValueError("sampling: weight samples ('separate', 'shared') are for type B")
        self.clear_cache()
        self.sampling = sampling
        for layer in self.layers:
            layer.sampling = sampling

    @property
    def learns_rates(self):
        return self.dropout.startswith("variational")

    # -- noise ---------------------------------------------------------------------------
    def noise(self, batch, rng):
        """One noise array per layer for ``batch`` rows: U(0, 1) for binary dropout, N(0, 1)
        for the Gaussian kinds, None for "none"."""
        if self.dropout == "none":
            return [None] * len(self.layers)
        if self.dropout == "binary":
            return [
                rng.random(layer.noise_shape(batch)).astype(self.dtype) for layer in self.layers
            ]
        return [
            rng.standard_normal(layer.noise_shape(batch), dtype=self.dtype) for layer in self.layers
        ]

    def check_noise(self, batch, eps, name="eps"):
        """Noise given for ``batch`` rows: as ``noise(batch, rng)`` draws it, one array per
        layer of that layer's shape and the model's dtype, finite, and in [0, 1] for binary
        dropout's uniform draws; or None for a layer at its test-time mean."""
        n = len(self.layers)
        if not isinstance(eps, (list, tuple)) or len(eps) != n:
            raise ValueError(
                f"{name}: expected a list of {n} noise arrays, one per layer "
                f"(model.noise(batch, rng) draws them), got {type(eps).__name__}"
                + (f" of {len(eps)}" if isinstance(eps, (list, tuple)) else "")
            )
        if self.dropout == "none":
            if any(e is not None for e in eps):
                raise ValueError(f"{name}: a network without dropout takes no noise: [None] * {n}")
            return list(eps)
        for i, (layer, e) in enumerate(zip(self.layers, eps)):
            if e is None:
                continue
            shape = layer.noise_shape(batch)
            e = check_input(e, f"{name}[{i}]", dtype=self.dtype)
            if e.shape != shape:
                raise ValueError(f"{name}[{i}]: expected shape {shape}, got {e.shape}")
            if self.dropout == "binary" and (e.min() < 0 or e.max() > 1):
                raise ValueError(f"{name}[{i}]: binary dropout's noise is uniform in [0, 1]")
        return list(eps)

    def check_data(self, x):
        x = check_input(x, "x", ndim=2, last_dim=self.in_dim, dtype=self.dtype)
        if len(x) == 0:
            raise ValueError("x: expected at least one example, got an empty batch")
        return x

    # -- the network -----------------------------------------------------------------------
    def forward(self, x, noise=None):
        """Logits (B, n_classes); ``noise`` from ``noise(B, rng)``, or None at test time."""
        noise = [None] * len(self.layers) if noise is None else noise
        h = x
        for i, (layer, eps) in enumerate(zip(self.layers, noise)):
            h = layer.forward(h, eps)  # every kind takes its noise (None: the test-time layer)
            if i < len(self.activations):
                h = self.activations[i].forward(h)
        return h

    def backward(self, dlogits):
        dh = dlogits
        for i in reversed(range(len(self.layers))):
            if i < len(self.activations):
                dh = self.activations[i].backward(dh)
            dh, _ = self.layers[i].backward(dh)  # (dA, None): the noise gets no gradient
        return dh

    def rate_layers(self):
        """The layers whose dropout rate is learned (variational dropout), else []."""
        return self.layers if self.learns_rates else []

    # -- using a trained classifier ------------------------------------------------------------
    def _logits(self, x, batch_size):
        """The test-time network's logits (B, n_classes), in chunks; keeps no cache."""
        out = np.concatenate(
            [self.forward(x[i : i + batch_size]) for i in range(0, len(x), batch_size)]
        )
        self.clear_cache()
        return out

    def predict(self, x, batch_size=1000):
        """argmax of the test-time network's logits, shape (B,)."""
        x = self.check_data(x)
        batch_size = check_int(batch_size, "batch_size")
        return np.argmax(self._logits(x, batch_size), axis=1)

    def error(self, x, y, batch_size=1000):
        """The fraction of rows of x whose predicted class is not y."""
        x = self.check_data(x)
        y = check_labels(y, len(x), self.n_classes, name="y")
        batch_size = check_int(batch_size, "batch_size")
        return float(np.mean(np.argmax(self._logits(x, batch_size), axis=1) != y))

    def log_likelihood(self, x, y, batch_size=1000):
        """log p(y|x) of the test-time network per row, shape (B,)."""
        x = self.check_data(x)
        y = check_labels(y, len(x), self.n_classes, name="y")
        batch_size = check_int(batch_size, "batch_size")
        log_pi = log_softmax(self._logits(x, batch_size).astype(np.float64))
        return log_pi[np.arange(len(x)), y]
