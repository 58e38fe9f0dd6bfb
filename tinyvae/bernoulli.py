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
        # min and max: two cheap reductions, no boolean temporaries; NaN fails too
        low, high = (x.min(), x.max()) if x.size else (0, 0)
        if not (low >= 0 and high <= 1):
            found = "NaN" if np.isnan(low) else f"values in [{low:.4g}, {high:.4g}]"
            raise ValueError(
                f"Bernoulli targets must lie in [0, 1]; got {found} "
                "(scale pixels to [0, 1] first)"
            )
        self.cache = (logits, x)
        # softplus(l) = max(l, 0) + log1p(exp(-|l|)): exp only of numbers <= 0, no overflow
        softplus = np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits)))
        return np.sum(x * logits - softplus, axis=-1)

    def backward(self, dll):
        logits, x = self._pop_cache()
        # d/dl [x l - softplus(l)] = x - sigmoid(l), with sigmoid(l) = (1 + tanh(l / 2)) / 2:
        # finite for any l and branch-free. (A np.where between the two stable forms of
        # the sigmoid measured four times slower on MNIST-like logits. This form is exact
        # to float rounding in absolute terms, which is what a gradient needs;
        # activations.sigmoid keeps the relative precision of tiny probabilities.)
        return dll[..., None] * (x - 0.5 - 0.5 * np.tanh(0.5 * logits))
