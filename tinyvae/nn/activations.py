"""Elementwise nonlinearities, each with its derivative written next to it.

Every activation caches only what its derivative needs: a mask, the input or
the output. Sigmoid and Softplus use the stable forms of ``functional.py``.
"""

import numpy as np

from ..validation import check_float
from .functional import sigmoid, sigmoid_from, softplus_and_exp
from .module import Module


class ReLU(Module):
    """y = max(x, 0);  dy/dx = 1 where x > 0, else 0."""

    def forward(self, x):
        mask = x > 0
        self.save(mask)
        return x * mask

    def backward(self, dy):
        mask = self.take()
        return dy * mask


class LeakyReLU(Module):
    """y = x for x > 0, slope * x otherwise;  dy/dx = 1 or slope."""

    def __init__(self, slope=0.01):
        super().__init__()
        self.slope = check_float(slope, "slope", 0)

    def forward(self, x):
        positive = x > 0
        self.save(positive)
        return np.where(positive, x, self.slope * x)

    def backward(self, dy):
        positive = self.take()
        return np.where(positive, dy, self.slope * dy)


class ELU(Module):
    """y = x for x > 0, alpha (exp(x) - 1) otherwise;  dy/dx = 1 or y + alpha."""

    def __init__(self, alpha=1.0):
        super().__init__()
        self.alpha = check_float(alpha, "alpha", 0, low_open=True)

    def forward(self, x):
        positive = x > 0
        # exp of min(x, 0) so large positive inputs never overflow the unused branch
        y = np.where(positive, x, self.alpha * np.expm1(np.minimum(x, 0)))
        self.save(positive, y)
        return y

    def backward(self, dy):
        positive, y = self.take()
        return np.where(positive, dy, dy * (y + self.alpha))


class Tanh(Module):
    """y = tanh(x);  dy/dx = 1 - y^2 (computed from the cached output)."""

    def forward(self, x):
        y = np.tanh(x)
        self.save(y)
        return y

    def backward(self, dy):
        y = self.take()
        return dy * (1 - y * y)


class Sigmoid(Module):
    """y = sigmoid(x);  dy/dx = y (1 - y)."""

    def forward(self, x):
        y = sigmoid(x)
        self.save(y)
        return y

    def backward(self, dy):
        y = self.take()
        return dy * y * (1 - y)


class Softplus(Module):
    """y = log(1 + exp(x));  dy/dx = sigmoid(x)."""

    def forward(self, x):
        y, e = softplus_and_exp(x)  # e = exp(-|x|), kept for the derivative
        self.save(x < 0, e)
        return y

    def backward(self, dy):
        negative, e = self.take()
        return dy * sigmoid_from(negative, e)


class Floor(Module):
    """y = max(x, minimum);  dy/dx = 1 where x > minimum, else 0.

    A hard lower bound, used for the Gaussian decoder's log-variance. Above
    the floor it is the identity, bit for bit.
    """

    def __init__(self, minimum):
        super().__init__()
        self.minimum = check_float(minimum, "minimum")

    def forward(self, x):
        self.save(x > self.minimum)
        return np.maximum(x, x.dtype.type(self.minimum))  # NaN stays NaN, for fit to see

    def backward(self, dy):
        above = self.take()
        return dy * above


ACTIVATIONS = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "softplus": Softplus,
}
