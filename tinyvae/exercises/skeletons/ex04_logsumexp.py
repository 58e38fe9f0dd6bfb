"""Exercise 4: logsumexp that never overflows, and its gradient, the softmax.

    logsumexp(a) = log sum_i exp(a_i) = m + log sum_i exp(a_i - m),   m = max_i a_i
    d logsumexp(a) / d a_i = exp(a_i - logsumexp(a))   (the softmax; sums to 1 along axis)

exp(1000) is inf and exp(-1000) is 0 in float64. A slice that is all -inf must give -inf
(careful: -inf - (-inf) is NaN). Both functions must work for any axis.
Check it with:  python -m tinyvae.exercises check ex04_logsumexp.py
"""

import numpy as np


def logsumexp(a, axis=0):
    """log sum exp(a) along axis: the shape of a without that axis, like np.sum(a, axis)."""
    # TODO: shift by the max along axis, then add it back. No overflow, no NaN.
    raise NotImplementedError


def logsumexp_grad(a, axis=0):
    """d logsumexp(a, axis) / d a: the shape of a, summing to 1 along axis."""
    # TODO: the softmax of a along axis, computed without overflow.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(4, (logsumexp, logsumexp_grad)) else 1)
