"""The Bernoulli log-likelihood from logits (MATH.md section 4).

For binary (or [0, 1]-valued) data x and decoder logits l:

    log p(x | z) = sum_d [ x_d l_d - softplus(l_d) ]

which equals x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)) but never takes
the log of a probability, so it stays finite for logits of any size.
"""

import numpy as np

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
        # softplus(l) = max(l, 0) + log1p(e) with e = exp(-|l|) in (0, 1]: no overflow.
        # e is kept because backward's sigmoid needs it too.
        e = np.exp(-np.abs(logits))
        self.cache = (logits, x, e)
        return np.sum(x * logits - np.maximum(logits, 0) - np.log1p(e), axis=-1)

    def backward(self, dll):
        logits, x, e = self._pop_cache()
        # d/dl [x l - softplus(l)] = x - sigmoid(l),
        # sigmoid(l) = 1 / (1 + e) for l >= 0 and e / (1 + e) for l < 0
        sigmoid = np.where(logits >= 0, 1.0, e) / (1.0 + e)
        return dll[..., None] * (x - sigmoid)
