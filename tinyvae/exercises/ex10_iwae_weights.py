"""Exercise 10: the IWAE bound and its normalized importance weights, stable.

For K samples z_k ~ q(z|x) of one example, the log importance weights are
log w_k = log p(x, z_k) - log q(z_k|x). The importance-weighted bound
(Burda, Grosse & Salakhutdinov 2015, eq. (8)) is the log of their average,

    bound = log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K,

and its gradient in each log-weight is the normalized importance weight
(Burda et al. 2015, section 3), a softmax over the K samples:

    d bound / d log w_k = w_k / sum_k' w_k' = exp(log w_k - logsumexp_k'(log w_k')).

log_w has shape (K, B): the K samples along axis 0, the batch along axis 1.
Write ``iwae_bound(log_w)``, shape (B,), and ``normalized_weights(log_w)``,
shape (K, B), each column summing to 1.

Log-weights of a real model are hundreds of nats below zero (about -100 on
MNIST, far less early in training), and exp(-1000) is 0 in float64: the
average of the w_k is then 0, its log -inf, and the weights 0/0 = NaN. Shift
first by m = max_k log w_k, which is exact:

    log sum_k exp(log w_k) = m + log sum_k exp(log w_k - m),

where the largest term is exp(0) = 1, so the sum never underflows to 0.
"""

import math

import numpy as np

from ..nn.functional import logsumexp
from .exercise import Exercise, Mistake


def iwae_bound(log_w):
    """log (1/K) sum_k w_k per example, (K, B) -> (B,): logsumexp over k, minus log K."""
    return logsumexp(log_w, axis=0) - math.log(len(log_w))


def normalized_weights(log_w):
    """w_k / sum_k' w_k' per example, (K, B) -> (K, B): exp(log w_k - logsumexp)."""
    return np.exp(log_w - logsumexp(log_w, axis=0))


def trial(functions, rng):
    iwae_bound, normalized_weights = functions
    K = 5
    # one column per example: log-weights around -1000 and -1250 (where a naive exp is 0),
    # around -95 (tiny but representable) and around 0; the spread decides how unequal the
    # weights are (at -1250 one sample takes nearly all the weight)
    # (and six examples, so that K read from the wrong axis is neither K - 1 nor K + 1)
    centre = np.array([-1000.0, -1250.0, -95.0, -0.5, -3.0, -40.0])
    spread = np.array([3.0, 20.0, 2.0, 1.0, 0.5, 5.0])
    log_w = centre + spread * rng.standard_normal((K, len(centre)))
    return {
        "bound": iwae_bound(log_w.copy()),
        "weights": normalized_weights(log_w.copy()),
    }


def _quiet(function):
    """``function`` without numpy's warnings (log 0, 0/0): the catalogue runs silently."""

    def quiet(log_w):
        with np.errstate(all="ignore"):
            return function(log_w)

    return quiet


def _bound_without_shift(log_w):
    return np.log(np.mean(np.exp(log_w), axis=0))


def _weights_without_shift(log_w):
    w = np.exp(log_w)
    return w / w.sum(axis=0)


def _bound_max_not_added_back(log_w):
    m = log_w.max(axis=0)
    return np.log(np.sum(np.exp(log_w - m), axis=0)) - math.log(len(log_w))


def _mean_of_log_w(log_w):
    return log_w.mean(axis=0)


def _bound_without_log_k(log_w):
    return logsumexp(log_w, axis=0)


def _bound_plus_log_k(log_w):
    return logsumexp(log_w, axis=0) + math.log(len(log_w))


def _bound_k_from_the_batch_axis(log_w):
    return logsumexp(log_w, axis=0) - math.log(log_w.shape[1])  # B, the batch, for K


def _bound_over_k_minus_1(log_w):
    return logsumexp(log_w, axis=0) - math.log(len(log_w) - 1)


# two ways of normalizing over the wrong axis, one diagnosis
OVER_THE_BATCH = (
    "the weights are normalized over the batch (axis 1): normalize over the K samples of "
    "each example, axis 0 of log_w (K, B), so that every column sums to 1"
)


def _weights_over_the_batch(log_w):
    return np.exp(log_w - logsumexp(log_w, axis=1)[:, None])


def _weights_summed_over_the_batch(log_w):
    e = np.exp(log_w - log_w.max(axis=0))  # the shift over k is right, the sum is not
    return e / e.sum(axis=1, keepdims=True)


def _weights_from_the_bound(log_w):
    return np.exp(log_w - iwae_bound(log_w))


def _unnormalized_weights(log_w):
    return np.exp(log_w - log_w.max(axis=0))


def _log_of_the_weights(log_w):
    return log_w - logsumexp(log_w, axis=0)


def _log_weights_normalized(log_w):
    return log_w / log_w.sum(axis=0, keepdims=True)  # the logs divided by their sum


EXERCISE = Exercise(
    number=10,
    chapter="AEVB",
    slug="iwae_weights",
    title="the IWAE bound and its normalized weights, stable",
    target=("iwae_bound", "normalized_weights"),
    reference=(iwae_bound, normalized_weights),
    trial=trial,
    solution="tinyvae/nn/functional.py, logsumexp; tinyvae/objectives/iwae.py, "
    "IWAE.forward (the bound, and the weights it keeps in self.saved)",
    hints=[
        "Both are per example: reduce over axis 0, the K samples, never over axis 1 (the "
        "batch); the bound is (B,), the weights (K, B). Write both through the log-weights "
        "a_k = log w_k: the bound is logsumexp_k(a_k) - log K, exercise 4's logsumexp, "
        "shifted by the max over k (keepdims=True, so that it broadcasts against log_w). "
        "On paper: the chain rule through log and exp gives the bound's derivative in a_k.",
        "log sum_k exp(a_k) = m + log sum_k exp(a_k - m) with m = max_k a_k: the largest "
        "term is exp(0) = 1, so the sum never underflows. And d bound / d a_k = "
        "exp(a_k) / sum_k' exp(a_k') = w~_k (the -log K is a constant): the normalized "
        "weights are the bound's gradient, a softmax over k, exp(a_k - logsumexp).",
        "K = len(log_w); m = log_w.max(axis=0, keepdims=True); e = np.exp(log_w - m); "
        "bound = m[0] + np.log(e.sum(axis=0)) - np.log(K); weights = e / e.sum(axis=0).",
    ],
    mistakes=[
        Mistake(
            "no max shift",
            (_quiet(_bound_without_shift), _quiet(_weights_without_shift)),
            "exp(-1000) is 0 in float64: the average of the w_k underflows to 0 and its log "
            "is -inf (the weights 0/0 = NaN); subtract the max over k first: "
            "log sum_k exp(a_k) = m + log sum_k exp(a_k - m), m = max_k a_k",
        ),
        Mistake(
            "max not added back",
            (_bound_max_not_added_back, normalized_weights),
            "the bound subtracted the max m over k but did not add it back: shifting by m "
            "divides every w_k by exp(m), so the log of their average is m too small; "
            "log sum_k exp(a_k) = m + log sum_k exp(a_k - m) (hint 2 of 3 derives it)",
        ),
        Mistake(
            "mean of log w",
            (_mean_of_log_w, normalized_weights),
            "this is the average of log w, the ELBO (estimator A), not the log of the "
            "average of w: bound = log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K",
        ),
        Mistake(
            "no -log K",
            (_bound_without_log_k, normalized_weights),
            "the bound misses the -log K: it is the log of the AVERAGE of the w_k, "
            "log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K",
        ),
        Mistake(
            "+log K",
            (_bound_plus_log_k, normalized_weights),
            "the bound adds log K where it subtracts it: the AVERAGE of the w_k divides their "
            "sum by K, and log (1/K) = -log K (hint 1 of 3 writes the bound)",
        ),
        Mistake(
            "K read from the batch axis",
            (_bound_k_from_the_batch_axis, normalized_weights),
            "the bound subtracts the log of the batch size B, log_w.shape[1], not log K: the "
            "K samples lie along axis 0 of log_w (K, B), so K = len(log_w) "
            "(hint 3 of 3 writes it)",
        ),
        Mistake(
            "-log (K - 1)",
            (_bound_over_k_minus_1, normalized_weights),
            "the bound subtracts log(K - 1): it is the log of the AVERAGE of the K weights, "
            "their sum over K, not K - 1 (a mean over the others, as in a leave-one-out "
            "baseline, is not this): bound = logsumexp_k(log w_k) - log K",
        ),
        Mistake(
            "weights over the batch",
            (iwae_bound, _weights_over_the_batch),
            OVER_THE_BATCH,
        ),
        Mistake(
            "weights summed over the batch",
            (iwae_bound, _weights_summed_over_the_batch),
            OVER_THE_BATCH,
        ),
        Mistake(
            "weights from the bound",
            (iwae_bound, _weights_from_the_bound),
            "the weights are K times too large: exp(log w_k - bound) divides by the AVERAGE "
            "of the w_k, not their sum; use exp(log w_k - logsumexp_k'(log w_k')) = "
            "exp(log w_k - bound - log K)",
        ),
        Mistake(
            "unnormalized weights",
            (iwae_bound, _unnormalized_weights),
            "the weights are not normalized: exp(log w_k - max) is w_k / max_k w_k; divide "
            "by its sum over k so that the weights sum to 1 (a softmax over the K samples)",
        ),
        Mistake(
            "log of the weights",
            (iwae_bound, _log_of_the_weights),
            "the weights are log w~_k, the logs of the normalized weights (never positive): "
            "the exp is missing, the weights themselves are positive and each column sums to "
            "1 (hint 2 of 3 derives them)",
        ),
        Mistake(
            "log-weights normalized",
            (iwae_bound, _log_weights_normalized),
            "the weights divide the log-weights log w_k by their sum: normalizing the logs is "
            "not normalizing the w_k, which are their exps (w_k / sum_k' w_k', a softmax over "
            "the K samples, not log w_k / sum_k' log w_k') (hint 2 of 3 derives them)",
        ),
    ],
)
