"""The Bernoulli log-likelihood from logits (AEVB appendix C.1).

For binary (or [0, 1]-valued) data x and decoder logits l:

    log p(x | z) = sum_d [ x_d l_d - softplus(l_d) ]

which equals x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)) but never takes
the log of a probability, so it stays finite for logits of any size.
"""

import numpy as np

from ..nn.module import Module

SUPPORT = (0, 1, "Bernoulli data")  # check_input's support=: the values x may take


def check_bernoulli_data(x):
    """Raise a clear error unless every value of ``x`` lies in [0, 1] (NaN fails too)."""
    # min and max: two cheap reductions, no boolean temporaries
    low, high = (x.min(), x.max()) if x.size else (0, 0)
    if not (low >= 0 and high <= 1):
        found = "NaN" if np.isnan(low) or np.isnan(high) else f"values in [{low:.4g}, {high:.4g}]"
        raise ValueError(
            f"x: Bernoulli data must lie in [0, 1]; got {found} (scale pixels to [0, 1] first)"
        )


class BernoulliLogDensity(Module):
    """``forward(x, logits) -> sum_d [x l - softplus(l)]`` over the last axis.

    ``logits`` may carry leading sample axes, e.g. (L, B, D) against x of
    shape (B, D). ``x`` must lie in [0, 1]: the doors that take data check it
    (``check_bernoulli_data``, from ``model.check_data``), once, and the
    density trusts them. ``backward(dlogp) -> (None, dlogits)``: x is data and
    gets no gradient.
    """

    def forward(self, x, logits):
        self.save(logits, x)
        # softplus(l) = max(l, 0) + log1p(exp(-|l|)): exp only of numbers <= 0, no overflow
        softplus = np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits)))
        return np.sum(x * logits - softplus, axis=-1)

    def backward(self, dlogp):
        logits, x = self.take()
        # d/dl [x l - softplus(l)] = x - sigmoid(l). Written for speed with
        # sigmoid(l) = (1 + tanh(l / 2)) / 2, which is finite for any l and needs no
        # branch; the plain form is x - functional.sigmoid(l).
        return None, dlogp[..., None] * (x - 0.5 - 0.5 * np.tanh(0.5 * logits))


class BernoulliLogLikelihood(BernoulliLogDensity):
    """The 0.1 name and argument order: ``forward(logits, x)``, ``backward(dll) -> dlogits``.

    Kept so that code written for tinyvae 0.1 keeps working; new code uses
    ``BernoulliLogDensity``, whose arguments come in the order of every
    density, ``(x, params...)``.
    """

    def forward(self, logits, x):
        return super().forward(x, logits)

    def backward(self, dll):
        return super().backward(dll)[1]
