"""Exercise 3: the backward passes of three activations, Tanh, Softplus and ELU.

Each acts elementwise, y = f(x), so x and y have the same shape:

    Tanh       y = tanh(x)                                  (AEVB appendix C's hidden units)
    Softplus   y = log(1 + exp(x))                          (Kingma & Ba 2014, section 6.4)
    ELU        y = x for x > 0, alpha (exp(x) - 1) otherwise    (Clevert et al. 2016, sec. 3)

Each backward receives dy, the gradient dL/dy, the shape of x, and returns dL/dx, the
same shape, computed from what its forward kept: Tanh the output y; Softplus (here) the
input x; ELU the mask x > 0 and the output y (alpha is self.alpha, checked at 0.7).
Softplus's backward must be finite and exact for every x, even x = 800 and x = -800,
where exp(800) overflows to inf.

Check it with:  python -m tinyvae.exercises check ex03_activations.py
"""

import numpy as np

import tinyvae as tv


class Tanh(tv.Tanh):
    """tinyvae's Tanh (its forward caches y = tanh(x)), with your backward."""

    def backward(self, dy):
        y = self.take()  # forward kept y = tanh(x), its output
        # TODO: return dL/dx, the shape of y, from dy and y.
        raise NotImplementedError


class Softplus(tv.Softplus):
    """A Softplus whose forward caches the input x, with your backward."""

    def forward(self, x):
        self.save(x)
        return tv.softplus(x)

    def backward(self, dy):
        x = self.take()  # forward kept x, its input
        # TODO: return dL/dx, the shape of x, finite for every x (exp(800) is inf).
        raise NotImplementedError


class ELU(tv.ELU):
    """tinyvae's ELU (self.alpha; its forward caches (x > 0, y)), with your backward."""

    def backward(self, dy):
        positive, y = self.take()  # forward kept the mask x > 0 and the output y
        # TODO: return dL/dx, the shape of y, from dy, the mask, y and self.alpha.
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(3, (Tanh, Softplus, ELU)) else 1)
