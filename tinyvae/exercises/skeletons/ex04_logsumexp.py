"""Exercise 4: logsumexp that never overflows, and its gradient.

The importance-weighted bound (Burda, Grosse & Salakhutdinov 2015, eq. (8)) is a log of a
sum of exponentials of log-weights a_i that lie hundreds of nats from zero:

    logsumexp(a) = log sum_i exp(a_i),   the sum along one axis of a

logsumexp(a, axis) returns the shape of a without that axis, like np.sum(a, axis);
logsumexp_grad(a, axis) returns the gradient of logsumexp(a, axis) with respect to a, the
shape of a. Both must work for any axis, and give the exact, finite answer where the
formula as written fails in float64: exp(1000) is inf and exp(-1000) is 0. A slice that is
all -inf must give -inf, not NaN (careful: -inf - (-inf) is NaN); the gradient is asked for
only where each slice has a finite entry.

Check it with:  python -m tinyvae.exercises check ex04_logsumexp.py
"""

import numpy as np


def logsumexp(a, axis=0):
    """log sum exp(a) along axis: the shape of a without that axis, like np.sum(a, axis)."""
    # TODO: return log sum_i exp(a_i) along axis; finite at a = 1000 and at a = -1000,
    # and -inf (not NaN) for a slice that is all -inf.
    raise NotImplementedError


def logsumexp_grad(a, axis=0):
    """The gradient of logsumexp(a, axis) with respect to a: the shape of a."""
    # TODO: return the gradient, the shape of a, with no exp that overflows.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(4, (logsumexp, logsumexp_grad)) else 1)
