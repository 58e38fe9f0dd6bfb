"""Binary dropout (Srivastava et al. 2014), the baseline of variational dropout.

Each input is kept with probability 1 - p and scaled by 1 / (1 - p), so its
mean is unchanged and the network needs no rescaling at test time
("inverted" dropout):

    y = x * [u >= p] / (1 - p),      u ~ U(0, 1) of the shape of x

The uniform noise u is an input, like every noise in tinyvae; ``u=None``
is the test-time network, y = x. ``DropoutLinear`` is dropout on the inputs
of a linear layer, taking its noise and returning ``(dA, None)`` like the
Gaussian dropout layers, so that a network treats every kind alike.
"""

import numpy as np

from ..validation import check_float
from .linear import Linear
from .module import Module


class BinaryDropout(Module):
    """``forward(x, u) -> x * (u >= p) / (1 - p)``; ``backward(dy) -> (dx, None)``."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = check_float(p, "p", 0.0, 1.0, high_open=True)  # a rate in [0, 1)

    def __repr__(self):
        return f"BinaryDropout(p={self.p})"

    def forward(self, x, u=None):
        if u is None:  # the test-time network (and p = 0): every unit, unscaled
            self.save(None)
            return x
        keep = (u >= self.p).astype(x.dtype) / (1.0 - self.p)
        self.save(keep)
        return x * keep

    def backward(self, dy):
        keep = self.take()
        if keep is None:  # y = x: dy passes unchanged, with no copy
            return dy, None
        return dy * keep, None  # y = x * keep: dy/dx = keep; u is noise


class DropoutLinear(Linear):
    """``forward(A, u) -> (A * [u >= p] / (1 - p)) W + b``, binary dropout on the inputs
    of a linear layer; ``u=None`` is the test-time layer, A W + b, and p = 0 a plain
    linear layer. ``backward(dB) -> (dA, None)``: u is noise."""

    def __init__(self, in_features, out_features, p=0.5, init="glorot_uniform", rng=None,
                 dtype=np.float32):  # fmt: skip
        super().__init__(in_features, out_features, init, rng, dtype, input_grad=True)
        self.dropout = BinaryDropout(p)

    def __repr__(self):
        return f"DropoutLinear({self.in_features}, {self.out_features}, p={self.dropout.p})"

    def noise_shape(self, batch):
        """One uniform draw per input unit and row."""
        return (batch, self.in_features)

    def forward(self, A, u=None):
        return super().forward(self.dropout.forward(A, u))

    def backward(self, dB):
        dA, _ = self.dropout.backward(super().backward(dB))  # the chain rule through both
        return dA, None
