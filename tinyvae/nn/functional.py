"""Numerically stable forms of three functions every bound needs.

Each is finite for any finite input: exp is only ever taken of a number
<= 0, so nothing overflows.

    sigmoid(x)   = 1 / (1 + exp(-x))
    softplus(x)  = log(1 + exp(x))       (the Bernoulli log-likelihood's normalizer)
    logsumexp(a) = log sum_i exp(a_i)    (importance weights, Burda et al. 2015, eq. 8)
"""

import numpy as np


def sigmoid(x):
    """1 / (1 + exp(-x)), without overflow: exp is only taken of -|x| <= 0."""
    e = np.exp(-np.abs(x))
    return sigmoid_from(x < 0, e)


def sigmoid_from(negative, e):
    """sigmoid(x) from ``negative`` = (x < 0) and e = exp(-|x|): 1 / (1 + e) or e / (1 + e)."""
    return np.where(negative, e, 1.0).astype(e.dtype, copy=False) / (1.0 + e)


def softplus(x):
    """log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)), finite for any x."""
    return softplus_and_exp(x)[0]


def softplus_and_exp(x):
    """``(softplus(x), exp(-|x|))``: the second is what the derivative sigmoid(x) needs."""
    e = np.exp(-np.abs(x))  # in (0, 1]: log1p and exp never overflow
    y = np.log1p(e)
    y += np.maximum(x, 0)
    return y, e


def logsumexp(a, axis=0):
    """log sum exp(a) along ``axis``: log sum_i exp(a_i - m) + m with m = max_i a_i.

    Shifting by the maximum keeps the largest exponent at exp(0) = 1, so
    nothing overflows and the sum is at least 1, so nothing underflows to
    log(0); numbers like -1e4 (log-weights of a bad posterior) stay exact.
    A slice that is all -inf has sum 0 and gives -inf.
    """
    a_max = np.max(a, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(a_max), a_max, 0.0)  # no inf - inf = NaN for all -inf
    with np.errstate(divide="ignore"):  # log(0) = -inf is the right answer there
        out = np.log(np.sum(np.exp(a - shift), axis=axis))
    return out + np.squeeze(shift, axis)
