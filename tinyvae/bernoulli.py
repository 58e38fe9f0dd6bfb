"""The Bernoulli log-likelihood from logits (MATH.md section 4).

For binary (or [0, 1]-valued) data x and decoder logits l:

    log p(x | z) = sum_d [ x_d l_d - softplus(l_d) ]

which equals x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)) but never takes
the log of a probability, so it stays finite for logits of any size.
"""

import numpy as np

from .activations import sigmoid, softplus
from .module import Module


class BernoulliLogLikelihood(Module):
    """``forward(logits, x) -> sum_d [x l - softplus(l)]`` over the last axis.

    ``logits`` may carry leading sample axes, e.g. (L, B, D) against x of
    shape (B, D). ``x`` must lie in [0, 1]. ``backward(dll) -> dlogits``; x is
    data and gets no gradient.
    """

    def forward(self, logits, x):
        if np.any((x < 0) | (x > 1)):
            raise ValueError(
                "Bernoulli targets must lie in [0, 1]; got values in "
                f"[{x.min():.4g}, {x.max():.4g}] (scale pixels to [0, 1] first)"
            )
        self.cache = (logits, x)
        return np.sum(x * logits - softplus(logits), axis=-1)

    def backward(self, dll):
        logits, x = self._pop_cache()
        # d/dl [x l - softplus(l)] = x - sigmoid(l)
        return dll[..., None] * (x - sigmoid(logits))
