"""Exercise 4: logsumexp that never overflows, and its gradient, the softmax.

The importance-weighted bound (Burda, Grosse & Salakhutdinov 2015, eq. (8))
is the log of a sum of exponentials, log sum_i exp(a_i), of log-weights
that are hundreds of nats from zero. In float64 exp(1000) is inf and
exp(-1000) is 0, so the formula as written overflows or takes log(0).
Shifting by the maximum m = max_i a_i is exact,

    logsumexp(a) = log sum_i exp(a_i) = m + log sum_i exp(a_i - m),

and safe: the largest term is exp(0) = 1, so the sum is between 1 and n.
One case is left: a slice that is all -inf (every weight 0) has m = -inf,
and a - m = -inf - (-inf) is NaN; the answer there is log 0 = -inf, so shift
by 0 where m is not finite.

Its gradient is the softmax (the normalized importance weights of Burda
et al. 2015, section 3):

    d logsumexp(a) / d a_i = exp(a_i) / sum_j exp(a_j) = exp(a_i - logsumexp(a)),

which sums to 1 along the axis. Write ``logsumexp(a, axis=0)`` (the
reduced axis removed, as ``np.sum`` does) and ``logsumexp_grad(a, axis=0)``
(the shape of ``a``); both must work for any axis. The gradient is asked
for only where some entry of each slice is finite.
"""

import numpy as np

from ..nn.functional import logsumexp
from .exercise import Exercise, Mistake


def logsumexp_grad(a, axis=0):
    """The softmax of ``a`` along ``axis``: exp(a - m) / sum exp(a - m), m the max."""
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def trial(functions, rng):
    logsumexp, logsumexp_grad = functions
    # columns (axis 0): near 1000 (exp overflows), near -1000 (exp is 0), both 1000 and
    # -1000 in one column, and two ordinary columns
    a = rng.normal(scale=3.0, size=(4, 5))
    a[:, 0] += 1000.0
    a[:, 1] -= 1000.0
    a[:2, 2] = 1000.0, -1000.0
    # square, so that a reduction broadcast along the wrong axis keeps the right shape
    b = rng.normal(scale=3.0, size=(4, 4))
    # the first column all -inf (every weight 0), the second with one -inf
    c = np.array([[-np.inf, rng.normal()], [-np.inf, -np.inf], [-np.inf, rng.normal()]])
    return {
        "logsumexp axis=0": logsumexp(a.copy(), axis=0),
        "logsumexp axis=1": logsumexp(b.copy(), axis=1),
        "logsumexp of an all -inf column": logsumexp(c.copy(), axis=0),
        "logsumexp_grad axis=0": logsumexp_grad(a.copy(), axis=0),
        "logsumexp_grad axis=1": logsumexp_grad(b.copy(), axis=1),
    }


def _quiet(function):
    """``function`` without numpy's warnings (overflow, log 0): the catalogue runs silently."""

    def quiet(a, axis=0):
        with np.errstate(all="ignore"):
            return function(a, axis)

    return quiet


def _safe(m):
    return np.where(np.isfinite(m), m, 0.0)


# -- logsumexp mistakes -----------------------------------------------------------------
def _naive(a, axis=0):
    return np.log(np.sum(np.exp(a), axis=axis))


def _global_max(a, axis=0):
    m = _safe(np.max(a))
    return np.log(np.sum(np.exp(a - m), axis=axis)) + m


def _mean_shift(a, axis=0):
    m = _safe(np.mean(a, axis=axis, keepdims=True))
    return np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis)


def _max_not_added_back(a, axis=0):
    m = _safe(np.max(a, axis=axis, keepdims=True))
    return np.log(np.sum(np.exp(a - m), axis=axis))


def _max_without_keepdims(a, axis=0):
    m = _safe(np.max(a, axis=axis))
    return np.log(np.sum(np.exp(a - m), axis=axis)) + m


def _log_mean_exp(a, axis=0):
    m = _safe(np.max(a, axis=axis, keepdims=True))
    return np.log(np.mean(np.exp(a - m), axis=axis)) + np.squeeze(m, axis)


def _always_axis_0(a, axis=0):
    return logsumexp(a, axis=0)


# -- gradient mistakes ------------------------------------------------------------------
def _grad_exp(a, axis=0):
    return np.exp(a)


def _grad_not_normalized(a, axis=0):
    return np.exp(a - np.max(a, axis=axis, keepdims=True))


def _grad_log_softmax(a, axis=0):
    return a - np.expand_dims(logsumexp(a, axis), axis)


def _grad_without_keepdims(a, axis=0):
    return np.exp(a - logsumexp(a, axis))


def _grad_always_axis_0(a, axis=0):
    return logsumexp_grad(a, axis=0)


def _grad_always_last_axis(a, axis=0):
    return logsumexp_grad(a, axis=-1)


EXERCISE = Exercise(
    number=4,
    chapter="AEVB",
    slug="logsumexp",
    title="logsumexp without overflow, and its gradient",
    target=("logsumexp", "logsumexp_grad"),
    reference=(logsumexp, logsumexp_grad),
    trial=trial,
    solution="tinyvae/nn/functional.py, logsumexp; its gradient, the softmax, is "
    "logsumexp_grad in tinyvae/exercises/ex04_logsumexp.py (tinyvae/objectives/iwae.py, "
    "IWAE.forward, computes it along axis 0 as the normalized importance weights)",
    hints=[
        "log sum_i exp(a_i) does not change if you take a constant m out: "
        "m + log sum_i exp(a_i - m). Which m makes every exp(a_i - m) <= 1 with one of them "
        "equal to 1? Keep it with keepdims=True so that it broadcasts against a along axis. "
        "For the gradient, write logsumexp as log S, S = sum_j exp(a_j): the chain rule "
        "through the log, then through each exp.",
        "m = max along axis. Where m is -inf (a slice all -inf), a - m is NaN: shift by 0 "
        "there instead (np.where(np.isfinite(m), m, 0)). The gradient is "
        "d/da_i log S = (1/S) exp(a_i), S = sum_j exp(a_j): a softmax, exp(a - logsumexp(a)), "
        "which sums to 1 along axis. Shifting a by its max leaves that ratio unchanged and "
        "keeps every exp <= 1.",
        "m = np.max(a, axis=axis, keepdims=True); m = np.where(np.isfinite(m), m, 0.0); "
        "logsumexp: np.log(np.sum(np.exp(a - m), axis=axis)) + np.squeeze(m, axis). "
        "Gradient: e = np.exp(a - np.max(a, axis=axis, keepdims=True)); "
        "e / np.sum(e, axis=axis, keepdims=True). (log 0 = -inf is the right answer for an "
        "all -inf slice: np.errstate(divide='ignore') silences numpy's warning.)",
    ],
    mistakes=[
        Mistake(
            "naive logsumexp",
            (_quiet(_naive), logsumexp_grad),
            "this logsumexp overflows at 1000 (exp(1000) = inf) and takes log(0) = -inf at "
            "-1000: subtract the max first, log sum_i exp(a_i) = m + log sum_i exp(a_i - m), "
            "m = max_i a_i",
        ),
        Mistake(
            "max of the whole array",
            (_quiet(_global_max), logsumexp_grad),
            "the shift is the max of the whole array, not of each slice along axis: a "
            "column near -1000 then underflows to log(0) = -inf; take "
            "np.max(a, axis=axis, keepdims=True)",
        ),
        Mistake(
            "mean as the shift",
            (_quiet(_mean_shift), logsumexp_grad),
            "this logsumexp overflows where one column holds both 1000 and -1000: shifting "
            "by the mean is exact but leaves exp(1000 - mean) = inf; shift by the max, so "
            "that the largest term is exp(0) = 1",
        ),
        Mistake(
            "max not added back",
            (_quiet(_max_not_added_back), logsumexp_grad),
            "you subtracted the max m but did not add it back: "
            "log sum_i exp(a_i) = m + log sum_i exp(a_i - m)",
        ),
        Mistake(
            "max without keepdims",
            (_quiet(_max_without_keepdims), logsumexp_grad),
            "for axis=1 the max is subtracted along the wrong axis: np.max(a, axis=1) has "
            "shape (n,), which broadcasts against the last axis, the columns; keep the "
            "reduced axis (keepdims=True) so that a - m shifts each row by its own max",
        ),
        Mistake(
            "log of the mean",
            (_quiet(_log_mean_exp), logsumexp_grad),
            "logsumexp is log n too small, n the size of axis: it takes the log of the MEAN "
            "of exp(a_i - m), where logsumexp takes their SUM, m + log sum_i exp(a_i - m) "
            "(the IWAE bound's 1/K is its own term, - log K, outside this function)",
        ),
        Mistake(
            "logsumexp ignores axis",
            (_always_axis_0, logsumexp_grad),
            "logsumexp(a, axis=1) reduced along axis 0: pass axis on to max and sum",
        ),
        Mistake(
            "gradient exp(a)",
            (logsumexp, _quiet(_grad_exp)),
            "the gradient is exp(a), missing the chain rule through the log of log sum_j exp(a_j) "
            "(and exp(a) overflows at 1000) (hint 2 of 3 derives it)",
        ),
        Mistake(
            "gradient not normalized",
            (logsumexp, _grad_not_normalized),
            "the gradient exp(a - max) is not normalized: the right one sums to 1 along axis "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "gradient is the log-softmax",
            (logsumexp, _grad_log_softmax),
            "the gradient is a - logsumexp(a), which is never positive: the right one is positive "
            "and sums to 1 along axis (hint 2 of 3 derives it)",
        ),
        Mistake(
            "gradient without keepdims",
            (logsumexp, _grad_without_keepdims),
            "for axis=1 the gradient is normalized along the wrong axis: logsumexp(a, 1) has "
            "shape (n,), which broadcasts against the columns; put the axis back "
            "(np.expand_dims(..., axis)) so that each row of the gradient sums to 1",
        ),
        Mistake(
            "gradient ignores axis",
            (logsumexp, _grad_always_axis_0),
            "logsumexp_grad(a, axis=1) is normalized along axis 0: pass axis on, so that "
            "the softmax sums to 1 along axis",
        ),
        Mistake(
            "gradient always along the last axis",
            (logsumexp, _grad_always_last_axis),
            "logsumexp_grad(a, axis=0) is normalized along the last axis, axis 1 (as a "
            "softmax over classes is): pass axis on to max and sum, so that the softmax "
            "sums to 1 along axis",
        ),
    ],
)
