"""Binary dropout (Srivastava et al. 2014), the baseline of variational dropout.

Each input is kept with probability 1 - p and scaled by 1 / (1 - p), so its
mean is unchanged and the network needs no rescaling at test time
("inverted" dropout):

    y = x * [u >= p] / (1 - p),      u ~ U(0, 1) of the shape of x

The uniform noise u is an input, like every noise in tinyvae; ``u=None``
is the test-time network, y = x.
"""

import numpy as np

from ..validation import check_float
from .module import Module


class BinaryDropout(Module):
    """``forward(x, u) -> x * (u >= p) / (1 - p)``; ``backward(dy) -> (dx, None)``."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = check_float(p, "p", 0.0, 1.0, high_open=True)  # a rate in [0, 1)

    def __repr__(self):
        return f"BinaryDropout(p={self.p})"

    def forward(self, x, u=None):
        if u is None:  # the test-time network: every unit, unscaled
            self.save(np.ones((), dtype=x.dtype))
            return x
        keep = (u >= self.p).astype(x.dtype) / (1.0 - self.p)
        self.save(keep)
        return x * keep

    def backward(self, dy):
        keep = self.take()
        return dy * keep, None  # y = x * keep: dy/dx = keep; u is noise
