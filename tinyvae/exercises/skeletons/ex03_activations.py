"""Exercise 3: the backward passes of Tanh, Softplus and ELU.

Elementwise, dL/dx = dy * f'(x):

    Tanh       f'(x) = 1 - y^2                      (y = tanh(x), the cached output)
    Softplus   f'(x) = sigmoid(x) = 1 / (1 + exp(-x))   (finite even at x = 800)
    ELU        f'(x) = 1 for x > 0, y + alpha otherwise   (y = alpha (exp(x) - 1) there)

Check it with:  python -m tinyvae.exercises check ex03_activations.py
"""

import numpy as np

import tinyvae as tv


class Tanh(tv.Tanh):
    """tinyvae's Tanh (its forward caches y = tanh(x)), with your backward."""

    def backward(self, dy):
        y = self.take()  # the output tanh(x)
        # TODO: return dL/dx from dy and the cached output y.
        raise NotImplementedError


class Softplus(tv.Softplus):
    """A Softplus whose forward caches the input x, with your backward."""

    def forward(self, x):
        self.save(x)
        return tv.softplus(x)

    def backward(self, dy):
        x = self.take()  # the input
        # TODO: return dL/dx = dy * sigmoid(x), computed so that no exp overflows.
        raise NotImplementedError


class ELU(tv.ELU):
    """tinyvae's ELU (self.alpha; its forward caches (x > 0, y)), with your backward."""

    def backward(self, dy):
        positive, y = self.take()  # the mask x > 0 and the output
        # TODO: return dL/dx: dy where x > 0, dy * (the derivative from y) elsewhere.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(3, (Tanh, Softplus, ELU)) else 1)
