"""Exercise 14: the backward pass of M2's unlabelled bound -U(x).

In the semi-supervised model M2 (Kingma, Rezende, Mohamed & Welling 2014,
"Semi-Supervised Learning with Deep Generative Models", eq. 7) the label of
an unlabelled example is a latent variable, summed over exactly: with the
classifier q(y|x) = Cat(y; pi), pi = softmax(a) of K logits a, and the
labelled bound of each class, c_k = -L(x, y=k),

    -U = sum_k pi_k c_k + H(pi),        H(pi) = -sum_k pi_k log pi_k.

Both terms depend on the logits through the softmax, whose Jacobian
d pi_j / d a_k = pi_j (delta_jk - pi_k) couples the classes:

    d/da_k sum_j pi_j c_j = pi_k (c_k - sum_j pi_j c_j)      (the expectation)
    dH/da_k               = -pi_k (log pi_k + H)             (the entropy, exercise 13)
    d(-U)/da_k            = pi_k (c_k - log pi_k - (-U))     (their sum)
    d(-U)/dc_k            = pi_k

(the sum: sum_j pi_j c_j + H = -U). This is the gradient the classifier gets
from the unlabelled examples, and pi_k is the weight with which the
labelled bound of class k is trained.

Write ``unlabelled_bound_backward(logits, c, dU)``, returning ``(dlogits,
dc)``. The logits and c are (B, K); dU, the upstream gradient of -U, is
(B,), one value per row, which multiplies every entry of that row. Compute
log pi = a - logsumexp(a) (``tv.distributions.log_softmax``) and pi =
exp(log pi): exp(800) is inf in float64, so exp(a) / sum_j exp(a_j) as
written is inf / inf = NaN.
"""

from types import SimpleNamespace

import numpy as np

from ..distributions.categorical import CategoricalEntropy, CategoricalExpectation, log_softmax
from .exercise import Exercise, Mistake


def unlabelled_bound_backward(logits, c, dU):
    """tinyvae's own pieces, forward then backward: CategoricalExpectation + CategoricalEntropy."""
    expectation, entropy = CategoricalExpectation(), CategoricalEntropy()
    expectation.forward(logits, c)
    entropy.forward(logits)
    dlogits, dc = expectation.backward(dU)
    return dlogits + entropy.backward(dU), dc


K = 4  # classes; the batch is K rows too, so a (B,) gradient broadcast along K keeps its shape


def trial(unlabelled_bound_backward, rng):
    # the first row is +-800, where exp(a) overflows to inf and exp(-a) is 0
    logits = rng.normal(scale=2.0, size=(K, K))
    logits[0] = 800.0, -800.0, 797.0, 0.0
    c = -100.0 + 3.0 * rng.standard_normal((K, K))  # -L(x, y=k): bounds of about -100 nats
    dU = rng.standard_normal(K)
    dlogits, dc = unlabelled_bound_backward(logits, c, dU)
    return {"dlogits": dlogits, "dc": dc}


# -- the mistakes -----------------------------------------------------------------------
def _parts(logits, c, dU, log_pi=None):
    """What every answer needs, from the stable log-softmax (or the ``log_pi`` given): g =
    dU[:, None], pi, log pi, the expectation sum_j pi_j c_j and the entropy H (both (B, 1))."""
    log_pi = log_softmax(logits) if log_pi is None else log_pi
    pi = np.exp(log_pi)
    return SimpleNamespace(
        g=dU[:, None],
        pi=pi,
        log_pi=log_pi,
        mean=np.sum(pi * c, axis=-1, keepdims=True),
        H=-np.sum(pi * log_pi, axis=-1, keepdims=True),
    )


def _naive_softmax(logits, c, dU):
    with np.errstate(all="ignore"):
        e = np.exp(logits)
        pi = e / np.sum(e, axis=-1, keepdims=True)
        log_pi = np.log(pi)
        minus_U = np.sum(pi * c, axis=-1) - np.sum(pi * log_pi, axis=-1)
        return dU[:, None] * pi * (c - log_pi - minus_U[:, None]), dU[:, None] * pi


def _log_of_pi(logits, c, dU):
    pi = np.exp(log_softmax(logits))  # stable
    with np.errstate(divide="ignore", invalid="ignore"):
        return _from_log_pi(np.log(pi), c, dU)  # log 0 = -inf where pi rounded to 0


def _right_dlogits(p, c):
    return p.g * p.pi * (c - p.log_pi - (p.mean + p.H))


def _from_log_pi(log_pi, c, dU):
    """The right formulas, from a log pi normalized some other way."""
    p = _parts(None, c, dU, log_pi)
    return _right_dlogits(p, c), p.g * p.pi


def _lse_over_the_batch(logits, c, dU):
    m = np.max(logits, axis=0, keepdims=True)  # shift and sum over axis 0, the batch
    return _from_log_pi(logits - m - np.log(np.sum(np.exp(logits - m), axis=0)), c, dU)


def _lse_sum_over_the_batch(logits, c, dU):
    m = np.max(logits, axis=-1, keepdims=True)  # the shift per row, as it should be,
    e = np.exp(logits - m)  # but the sum over axis 0, the batch
    return _from_log_pi(logits - m - np.log(np.sum(e, axis=0, keepdims=True)), c, dU)


def _lse_without_keepdims(logits, c, dU):
    m = np.max(logits, axis=-1, keepdims=True)
    lse = m[:, 0] + np.log(np.sum(np.exp(logits - m), axis=-1))  # (B,): no axis kept
    with np.errstate(all="ignore"):  # row b less column k's logsumexp overflows in exp
        return _from_log_pi(logits - lse, c, dU)  # (B, K) - (B,): lined up with the K classes


def _dc_is_dU(logits, c, dU):
    p = _parts(logits, c, dU)
    return _right_dlogits(p, c), dU


def _dc_is_dU_broadcast(logits, c, dU):
    p = _parts(logits, c, dU)
    return _right_dlogits(p, c), np.broadcast_to(p.g, c.shape)


def _gradient_wrt_pi(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * (c - p.log_pi - 1), p.g * p.pi


def _c_as_the_gradient(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * c, p.g * p.pi


def _pi_c(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * c, p.g * p.pi


def _log_pi_plus_one(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.log_pi - 1), p.g * p.pi


def _entropy_one_not_centred(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.log_pi - 1 - (p.mean + p.H)), p.g * p.pi


def _expectation_jacobian_diagonal(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * (p.pi * (1 - p.pi) * c - p.pi * (p.log_pi + p.H)), p.g * p.pi


def _expectation_over_the_batch(logits, c, dU):
    p = _parts(logits, c, dU)
    mean = np.sum(p.pi * c, axis=0, keepdims=True)  # over B, not K
    return p.g * (p.pi * (c - mean) - p.pi * (p.log_pi + p.H)), p.g * p.pi


def _expectation_not_centred(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.log_pi - p.H), p.g * p.pi


def _centred_on_plain_mean(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - c.mean(axis=-1, keepdims=True) - p.log_pi - p.H), p.g * p.pi


def _not_centred(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.log_pi), p.g * p.pi


def _centred_over_the_batch(logits, c, dU):
    p = _parts(logits, c, dU)
    minus_U = np.sum(p.pi * (c - p.log_pi), axis=0, keepdims=True)  # over B, not K
    return p.g * p.pi * (c - p.log_pi - minus_U), p.g * p.pi


def _forgets_the_entropy(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.mean), p.g * p.pi


def _forgets_the_expectation(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * -p.pi * (p.log_pi + p.H), p.g * p.pi


def _entropy_not_centred(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.mean) - p.g * p.pi * (p.log_pi + 1), p.g * p.pi


def _entropy_sign(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.g * p.pi * (c - p.mean + p.log_pi + p.H), p.g * p.pi


def _dU_wrong_axis(logits, c, dU):
    p = _parts(logits, c, dU)
    return dU * p.pi * (c - p.log_pi - (p.mean + p.H)), dU * p.pi


def _ignores_dU(logits, c, dU):
    p = _parts(logits, c, dU)
    return p.pi * (c - p.log_pi - (p.mean + p.H)), p.pi


# the same mistake, written two ways, one diagnosis
DC_WITHOUT_PI = "dc misses the factor pi_k that multiplies c_k in -U (hint 2 of 4 derives it)"
LSE_OVER_THE_BATCH = (
    "dlogits and dc use a pi normalized over axis 0, the batch: the logsumexp in "
    "log pi = a - logsumexp(a) runs over each row's K classes (axis -1, for its max shift and "
    "its sum alike), so that every row's pi sums to 1 (tv.distributions.log_softmax does it)"
)

EXERCISE = Exercise(
    number=14,
    chapter="ch. 3",
    slug="unlabelled_bound",
    title="M2's unlabelled bound: its gradients to the logits and to each class's bound",
    target="unlabelled_bound_backward",
    reference=unlabelled_bound_backward,
    trial=trial,
    solution="tinyvae/distributions/categorical.py, CategoricalExpectation.backward and "
    "CategoricalEntropy.backward; tinyvae/objectives/semi_supervised.py, "
    "SemiSupervised.backward",
    hints=[
        "Both terms of -U depend on the logits only through pi = softmax(a), and c enters "
        "only the first, linearly. So dlogits is a chain rule through the softmax, summed "
        "over both terms and over every class j (each a_k moves every pi_j); dc needs no "
        "softmax. Get log_pi = tv.distributions.log_softmax(logits) and pi = np.exp(log_pi) "
        "(never exp(logits), which overflows at 800). dU has one value per row: dU[:, None] "
        "scales every entry of that row.",
        "dc first: c_k enters -U only as pi_k c_k, so d(-U)/dc_k = pi_k, and "
        "dc = dU[:, None] * pi.",
        "dlogits: with the softmax's Jacobian, d pi_j / d a_k = pi_j (delta_jk - pi_k), the "
        "expectation gives pi_k (c_k - sum_j pi_j c_j) and the entropy -pi_k (log pi_k + H) "
        "(exercise 13). Add them: since sum_j pi_j c_j + H = -U, the sum is "
        "pi_k (c_k - log pi_k - (-U)).",
        "log_pi = tv.distributions.log_softmax(logits); pi = np.exp(log_pi); "
        "minus_U = np.sum(pi * (c - log_pi), axis=-1); return "
        "dU[:, None] * pi * (c - log_pi - minus_U[:, None]), dU[:, None] * pi.",
    ],
    mistakes=[
        Mistake(
            "log of pi",
            _log_of_pi,
            "log pi is taken as log of pi: where a logit is 800 below its row's largest, pi "
            "rounds to 0 and log 0 = -inf, so pi log pi = 0 * -inf = NaN; keep log pi from "
            "tv.distributions.log_softmax (finite for any logits) and pi = exp(log pi)",
        ),
        Mistake(
            "softmax without the max shift",
            _naive_softmax,
            "the softmax overflows in the row of logits near +-800: exp(800) = inf, "
            "inf / inf = NaN, and log(exp(-800)) = log 0 = -inf; take "
            "log pi = a - logsumexp(a) (tv.distributions.log_softmax), finite for any logits, "
            "and pi = exp(log pi)",
        ),
        Mistake("logsumexp over the batch", _lse_over_the_batch, LSE_OVER_THE_BATCH),
        Mistake("logsumexp's sum over the batch", _lse_sum_over_the_batch, LSE_OVER_THE_BATCH),
        Mistake(
            "logsumexp without keepdims",
            _lse_without_keepdims,
            "dlogits and dc use a log pi whose logsumexp, one value per row, shape (B,), was "
            "subtracted from the (B, K) logits without its axis: numpy lines it up with the last "
            "axis, the K classes, so entry (b, k) is shifted by row k's logsumexp, not row b's "
            "(and exp then overflows); keep the axis, keepdims=True or [:, None] "
            "(tv.distributions.log_softmax does it)",
        ),
        Mistake(
            "dc = dU",
            _dc_is_dU,
            "dc is dU itself, one number per row, shape (B,): c has one entry per class, "
            "(B, K), and each carries its own factor pi_k from -U (hint 2 of 4 derives it)",
        ),
        Mistake("dc = dU, broadcast", _dc_is_dU_broadcast, DC_WITHOUT_PI),
        Mistake(
            "the gradient with respect to pi",
            _gradient_wrt_pi,
            "dlogits is dU (c - log pi - 1), the gradient with respect to pi, not to the logits: "
            "the chain rule through the softmax is missing (hint 3 of 4 derives it)",
        ),
        Mistake(
            "c as the gradient",
            _c_as_the_gradient,
            "dlogits is dU c, the derivative of sum_k pi_k c_k with respect to pi: the chain rule "
            "through the softmax is missing, and so is the entropy, which depends on the logits "
            "too (hint 3 of 4 derives it)",
        ),
        Mistake(
            "pi c: diagonal Jacobian, no entropy",
            _pi_c,
            "dlogits is dU pi c: it keeps only the diagonal of the softmax's Jacobian, as for an "
            "elementwise exp, and leaves out the entropy (hint 3 of 4 derives it)",
        ),
        Mistake(
            "log pi + 1 without the centring",
            _log_pi_plus_one,
            "dlogits is dU pi (c - log pi - 1): the gradient with respect to pi times only the "
            "diagonal of the softmax's Jacobian, missing its off-diagonal part "
            "(each a_k moves every pi_j, not only pi_k) (hint 3 of 4 derives it)",
        ),
        Mistake(
            "expectation not centred",
            _expectation_not_centred,
            "dlogits has pi_k c_k for the expectation's part, missing the off-diagonal part of "
            "the softmax's Jacobian, which couples the classes (hint 3 of 4 derives it)",
        ),
        Mistake(
            "centred on the plain mean of c",
            _centred_on_plain_mean,
            "dlogits centres the expectation's part on the plain mean of c over the K classes, "
            "which is not the mean that the softmax's Jacobian gives (hint 3 of 4 derives it)",
        ),
        Mistake(
            "not centred at all",
            _not_centred,
            "dlogits is dU pi (c - log pi): it misses a term, pi_k times a number that is the "
            "same for every class of the row, from the off-diagonal part of the softmax's "
            "Jacobian (each a_k moves every pi_j, not only pi_k) (hint 3 of 4 derives it)",
        ),
        Mistake(
            "centred over the batch",
            _centred_over_the_batch,
            "dlogits subtracts a sum over the batch (axis 0), mixing the examples: the term "
            "from the softmax's Jacobian is a sum over the K classes of each row, axis -1 "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "forgets the entropy",
            _forgets_the_entropy,
            "dlogits has the expectation's gradient but not the entropy's: H(q(y|x)) depends on "
            "the logits too (exercise 13 derives its gradient; hint 3 of 4 adds the two)",
        ),
        Mistake(
            "forgets the expectation",
            _forgets_the_expectation,
            "dlogits has the entropy's gradient but not the expectation's: the weights pi of "
            "sum_k pi_k c_k depend on the logits too (hint 3 of 4 derives it)",
        ),
        Mistake(
            "the expectation's part from the Jacobian's diagonal",
            _expectation_jacobian_diagonal,
            "dlogits has the entropy's part right but the expectation's is pi (1 - pi) c: it "
            "keeps only the diagonal of the softmax's Jacobian; each a_k moves every pi_j, so "
            "it is pi_k (c_k - sum_j pi_j c_j) (hint 3 of 4 derives it)",
        ),
        Mistake(
            "the expectation's mean over the batch",
            _expectation_over_the_batch,
            "dlogits centres c on a mean over the batch (axis 0): sum_j pi_j c_j is a sum "
            "over the classes of one example, axis=-1, one value per row (hint 3 of 4)",
        ),
        Mistake(
            "the entropy's -1 centred on a mean without it",
            _entropy_one_not_centred,
            "dlogits is pi too small in every entry: it keeps the -1 of the entropy's "
            "derivative in pi, -(log pi_k + 1), in each class's term but not in the mean that "
            "term is centred on; centre the whole term and the constant cancels, since the pi_j "
            "add up to 1 (hint 3 of 4 derives it)",
        ),
        Mistake(
            "entropy's part not centred",
            _entropy_not_centred,
            "dlogits has the expectation's part right but the entropy's is -pi (log pi + 1): it "
            "keeps only the diagonal of the softmax's Jacobian, missing its off-diagonal part "
            "(each a_k moves every pi_j, not only pi_k), the mistake exercise 13 names for the "
            "entropy alone (hint 3 of 4 derives it)",
        ),
        Mistake(
            "entropy sign",
            _entropy_sign,
            "dlogits has the entropy's part with its sign flipped: yours is the gradient of sum_k "
            "pi_k log pi_k = -H, not of H (hint 3 of 4 derives it)",
        ),
        Mistake(
            "dU along the wrong axis",
            _dU_wrong_axis,
            "dU is broadcast along the wrong axis: dU has shape (B,), which numpy lines up with "
            "the last axis, the K classes; use dU[:, None], so that row b is multiplied by dU[b]",
        ),
        Mistake(
            "ignores dU",
            _ignores_dU,
            "this gradient ignores dU: multiply its local gradient by the upstream gradient, "
            "dU[:, None], one value per row (the chain rule)",
        ),
    ],
)
