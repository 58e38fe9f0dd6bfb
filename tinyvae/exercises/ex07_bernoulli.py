"""Exercise 7: the Bernoulli log-likelihood from logits, stable, and its backward pass.

A decoder for binary pixels outputs logits l, and p(x_d = 1 | z) = sigmoid(l_d).
The log-likelihood of data x in [0, 1], summed over the pixels (the last axis),

    log p(x | z) = sum_d [ x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d)) ]
                 = sum_d [ x_d l_d - softplus(l_d) ],     softplus(l) = log(1 + exp(l))

(AEVB appendix C.1). The first line is -inf or NaN once a logit is large:
sigmoid(800) rounds to 1, and log(1 - 1) = -inf. The second never takes the
log of a probability, but softplus must be computed without overflow too:
exp(800) = inf in float64. Write it as

    softplus(l) = max(l, 0) + log1p(exp(-|l|))

which only ever takes exp of a number <= 0. The gradient is

    dL/dl_d = dlogp * (x_d - sigmoid(l_d))

with dlogp = dL/dlog p of shape (B,), one value per row. Write both
``BernoulliLogDensity.forward(x, logits)``, returning log p of shape (B,),
and ``backward(dlogp)``, returning ``(None, dlogits)``: x is data, it gets
no gradient.
"""

import numpy as np

from ..distributions.bernoulli import BernoulliLogDensity
from ..nn.functional import sigmoid
from .exercise import BrokenContract, Exercise, Mistake, module_trial, with_samples


def _forward_shape_checked(density, x, logits, name):
    """Refuse a forward whose log p has not the reference's shape, before its backward runs:
    the upstream gradient takes log p's shape, and a right backward would then fail on it,
    far from the mistake. (A None is left to the check, which names a missing return.)"""
    want = np.shape(BernoulliLogDensity().forward(x.copy(), logits.copy()))
    got = density().forward(x.copy(), logits.copy())
    if got is not None and np.shape(got) != want:
        raise BrokenContract(
            f"{name}: forward returned shape {np.shape(got)} for logits of shape "
            f"{logits.shape}, expected {want}: one log p for each row of logits, the sum over "
            "the last axis (the D pixels, axis=-1), whatever axes come before it"
        )


def trial(density, rng):
    B, D = 3, 5
    x = rng.uniform(size=(B, D))
    x[2] = x[2] > 0.5  # a binary row, and non-binary values in the others
    x[0, 4], x[1, 3] = 0.0, 1.0
    logits = rng.normal(scale=3.0, size=(B, D))
    # logits that overflow the naive forms: exp(800) = inf, and sigmoid(+-800) rounds to 1
    # or 0. (x is strictly inside (0, 1) there, so the naive forms give -inf, not NaN.)
    logits[0, 1], x[0, 1] = 800.0, 0.3
    logits[1, 2], x[1, 2] = -800.0, 0.6
    _forward_shape_checked(density, x, logits, "log p")
    out = module_trial(density(), {"x": x, "logits": logits}, constant=("x",), rng=rng)
    named = {"log p": out["y"], "dlogits": out["dlogits"]}
    # L = 2 samples of z per example, as a VAE decodes them: logits (L, B, D) against x (B, D)
    logits = rng.normal(scale=3.0, size=(2, B, D))
    _forward_shape_checked(density, x, logits, "log p, L samples")
    out = with_samples(
        lambda: module_trial(density(), {"x": x, "logits": logits}, constant=("x",), rng=rng),
        "logits (L, B, D), x (B, D)",
    )
    named.update({"log p, L samples": out["y"], "dlogits, L samples": out["dlogits"]})
    return named


def _softplus(logits):
    return np.maximum(logits, 0) + np.log1p(np.exp(-np.abs(logits)))


class _Mistake(BernoulliLogDensity):
    """A wrong forward (``log_p``) or backward (``gradient``); the rest is right."""

    def forward(self, x, logits):
        self.save(logits, x)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            return self.log_p(x, logits)

    def backward(self, dlogp):
        logits, x = self.take()
        return None, self.gradient(dlogp, x, logits)

    def log_p(self, x, logits):
        return np.sum(x * logits - _softplus(logits), axis=-1)

    def gradient(self, dlogp, x, logits):
        return dlogp[..., None] * (x - sigmoid(logits))


class _LogOfSigmoid(_Mistake):
    def log_p(self, x, logits):
        p = 1.0 / (1.0 + np.exp(-logits))
        return np.sum(x * np.log(p) + (1.0 - x) * np.log(1.0 - p), axis=-1)


class _SoftplusOverflows(_Mistake):
    def log_p(self, x, logits):
        return np.sum(x * logits - np.log(1.0 + np.exp(logits)), axis=-1)


class _SoftplusOfMinusLogits(_Mistake):
    def log_p(self, x, logits):
        return np.sum(x * logits - _softplus(-logits), axis=-1)


class _MeanOverPixels(_Mistake):
    def log_p(self, x, logits):
        return np.mean(x * logits - _softplus(logits), axis=-1)


class _GradientSignFlipped(_Mistake):
    def gradient(self, dlogp, x, logits):
        return dlogp[..., None] * (sigmoid(logits) - x)


class _SigmoidOfMinusLogits(_Mistake):
    def gradient(self, dlogp, x, logits):
        return dlogp[..., None] * (x - sigmoid(-logits))


class _ForgetsTheZeroTerm(_Mistake):
    def gradient(self, dlogp, x, logits):
        return dlogp[..., None] * x * (1.0 - sigmoid(logits))  # the x = 1 term alone


class _SoftplusForSigmoid(_Mistake):
    def gradient(self, dlogp, x, logits):
        return dlogp[..., None] * (x - _softplus(logits))


class _IgnoresDlogp(_Mistake):
    def gradient(self, dlogp, x, logits):
        return x - sigmoid(logits)


class _ClippedProbabilities(_Mistake):
    """sigmoid(l) clipped away from 0 and 1 "to avoid log(0)", then logged."""

    clip = 1e-7

    def log_p(self, x, logits):
        p = np.clip(sigmoid(logits), self.clip, 1.0 - self.clip)
        return np.sum(x * np.log(p) + (1.0 - x) * np.log(1.0 - p), axis=-1)


class _ClippedProbabilitiesTighter(_ClippedProbabilities):
    clip = 1e-12


# the usual clips, Keras's 1e-7 and a tighter one: one diagnosis
CLIPPED = (
    "log p is capped where |l| is large: clipping sigmoid(l) away from 0 and 1 before the log "
    "keeps it finite, but every term then stops near log(clip) (about -16 for 1e-7), where "
    "at l = +-800 the right term is hundreds of nats; don't take the log of a probability, "
    "use x l - softplus(l) (hint 2 of 3 writes softplus finite for any l)"
)

EXERCISE = Exercise(
    number=7,
    chapter="AEVB",
    slug="bernoulli",
    title="Bernoulli log-likelihood from logits: stable forward, backward",
    target="BernoulliLogDensity",
    reference=BernoulliLogDensity,
    trial=trial,
    solution="tinyvae/distributions/bernoulli.py, BernoulliLogDensity (forward and backward)",
    hints=[
        "Forward: don't take the log of a probability; use the second form, "
        "sum_d [x_d l_d - softplus(l_d)], and write softplus so that exp only ever sees "
        "numbers <= 0. Backward: the chain rule. Each l_d sits in one term of its row's sum, "
        "so dlogits (B, D) is that term's derivative in l_d times the row's dlogp "
        "(dlogp[..., None]); the derivative that matters is softplus'.",
        "softplus(l) = log(1 + exp(l)) = max(l, 0) + log1p(exp(-|l|)): finite for any l. "
        "Its derivative is exp(l) / (1 + exp(l)) = sigmoid(l).",
        "d/dl [x l - softplus(l)] = x - sigmoid(l). forward: softplus = np.maximum(logits, 0) "
        "+ np.log1p(np.exp(-np.abs(logits))); return np.sum(x * logits - softplus, axis=-1). "
        "backward: return None, dlogp[..., None] * (x - tv.sigmoid(logits)).",
    ],
    mistakes=[
        Mistake(
            "only the x = 1 term's derivative",
            _ForgetsTheZeroTerm,
            "dlogits is x (1 - sigmoid(l)), the derivative of x log sigmoid(l) alone: the "
            "(1 - x) log(1 - sigmoid(l)) term has a derivative too, -(1 - x) sigmoid(l) "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "softplus for sigmoid in the gradient",
            _SoftplusForSigmoid,
            "dlogits has softplus(l) where its derivative belongs: d softplus(l)/dl = "
            "sigmoid(l) (hint 2 of 3 derives it)",
        ),
        Mistake(
            "log of sigmoid",
            _LogOfSigmoid,
            "unstable: log(sigmoid(l)) is -inf at l = -800 (and log(1 - sigmoid(l)) at "
            "l = 800); use x l - softplus(l) with softplus(l) = max(l, 0) + log1p(exp(-|l|))",
        ),
        Mistake(
            "softplus as log(1 + exp(l))",
            _SoftplusOverflows,
            "softplus(l) = log(1 + exp(l)) overflows at l = 800 (exp(800) = inf in float64): "
            "compute it as max(l, 0) + log1p(exp(-|l|))",
        ),
        Mistake(
            "softplus(-l) in log p",
            _SoftplusOfMinusLogits,
            "log p has softplus(-l) where softplus(l) belongs: log(1 - sigmoid(l)) = "
            "-softplus(l), and x log sigmoid(l) + (1 - x) log(1 - sigmoid(l)) = "
            "x l - softplus(l) (log sigmoid(l) = -softplus(-l) is the other half)",
        ),
        Mistake(
            "mean over pixels",
            _MeanOverPixels,
            "log p is D times too small: the pixels are independent, so their log-likelihoods "
            "add up; sum over the last axis, don't average",
        ),
        Mistake(
            "gradient sign flipped",
            _GradientSignFlipped,
            "dlogits has the wrong sign: yours is the gradient of the negative log-likelihood, "
            "and this module returns log p itself (hint 3 of 3 derives it)",
        ),
        Mistake(
            "sigmoid(-l) for softplus'",
            _SigmoidOfMinusLogits,
            "dlogits uses sigmoid(-l) = 1 - sigmoid(l), a sign flipped inside the sigmoid: "
            "softplus(l) rises with l, and its slope is near 1 where l is large, not near 0 "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "ignores dlogp",
            _IgnoresDlogp,
            "dlogits ignores dlogp: multiply the local derivative by the upstream gradient, "
            "dlogp[..., None], one value per row (the chain rule)",
        ),
        Mistake("clipped probabilities", _ClippedProbabilities, CLIPPED),
        Mistake("clipped probabilities, 1e-12", _ClippedProbabilitiesTighter, CLIPPED),
    ],
)
