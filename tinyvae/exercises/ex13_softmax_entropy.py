"""Exercise 13: the backward passes of a categorical distribution from logits.

In the semi-supervised model M2 (Kingma, Rezende, Mohamed & Welling 2014,
"Semi-Supervised Learning with Deep Generative Models", section 3.1.2) the
classifier q(y|x) is a categorical distribution, Cat(y; pi) with
pi = softmax(a) of K logits a. A labelled example needs the log-probability
of its label, and the bound on an unlabelled example adds the entropy
H(q(y|x)). Both are computed from the log-softmax,

    log pi_k = a_k - logsumexp(a),       pi_k = exp(log pi_k),

which is finite for any finite logits (exp(800) is inf in float64, so
exp(a) / sum_j exp(a_j) as written is inf / inf = NaN). Their gradients
with respect to the logits go through the softmax's Jacobian,
d pi_j / d a_k = pi_j (delta_jk - pi_k):

    log Cat(y; pi) = sum_k y_k log pi_k              (y one-hot: sum_k y_k = 1)
        d/da_k     = y_k - pi_k
    H(pi)          = -sum_k pi_k log pi_k
        dH/da_k    = -sum_j (d pi_j / d a_k) (log pi_j + 1) = -pi_k (log pi_k + H)

Write ``CategoricalLogDensity.backward(dlogp)``, returning ``(None,
dlogits)`` (y is data: its gradient is None), and
``CategoricalEntropy.backward(dH)``, returning ``dlogits``. The logits are
(B, K); log p, H and their upstream gradients dlogp, dH are (B,), one value
per row, which multiplies every entry of that row. The forward passes are
given: the log density caches (y, log pi), the entropy (pi, log pi, H).
"""

import numpy as np

from ..distributions.categorical import CategoricalEntropy, CategoricalLogDensity, one_hot
from .exercise import Exercise, Mistake, module_trial

K = 4  # classes; the batch is K rows too, so a (B,) gradient broadcast along K keeps its shape


def _logits(rng):
    """(K, K) logits; the first row is +-800, where exp(a) overflows to inf and exp(-a) is 0."""
    a = rng.normal(scale=2.0, size=(K, K))
    a[0] = 800.0, -800.0, 797.0, 0.0
    return a


def trial(modules, rng):
    log_density, entropy = modules
    # every class once, in a shuffled order; row 0's label is 0 (a = 800, pi near 1)
    labels = np.concatenate([[0], 1 + rng.permutation(K - 1)])
    y = one_hot(labels, K, dtype=np.float64)
    lp = module_trial(log_density(), {"y": y, "logits": _logits(rng)}, constant=("y",), rng=rng)
    h = module_trial(entropy(), {"logits": _logits(rng)}, rng=rng)
    named = {
        "log p": (lp, "y"),
        # absent when backward returns dlogits alone, not the pair (None, dlogits)
        "dlogits (log density)": (lp, "dlogits"),
        "H": (h, "y"),
        "dlogits (entropy)": (h, "dlogits"),
    }
    return {key: out[name] for key, (out, name) in named.items() if name in out}


# -- log density mistakes ---------------------------------------------------------------
class _LogDensityMistake(CategoricalLogDensity):
    """A wrong backward: ``dlogits(dlogp, y, log_pi)``."""

    def backward(self, dlogp):
        y, log_pi = self.take()
        return None, self.dlogits(dlogp, y, log_pi)


class _NaiveSoftmax(CategoricalLogDensity):
    def forward(self, y, logits):
        logp = super().forward(y, logits)
        self.save(y, logits)
        return logp

    def backward(self, dlogp):
        y, a = self.take()
        with np.errstate(all="ignore"):
            e = np.exp(a)
            pi = e / np.sum(e, axis=-1, keepdims=True)
        return None, dlogp[..., None] * (y - pi)


class _ForgetsTheNormalizer(_LogDensityMistake):
    def dlogits(self, dlogp, y, log_pi):
        return dlogp[..., None] * y


class _LogDensitySign(_LogDensityMistake):
    def dlogits(self, dlogp, y, log_pi):
        return dlogp[..., None] * (np.exp(log_pi) - y)


class _LogPiForPi(_LogDensityMistake):
    def dlogits(self, dlogp, y, log_pi):
        return dlogp[..., None] * (y - log_pi)


class _DlogpWrongAxis(_LogDensityMistake):
    def dlogits(self, dlogp, y, log_pi):
        return dlogp * (y - np.exp(log_pi))


class _IgnoresDlogp(_LogDensityMistake):
    def dlogits(self, dlogp, y, log_pi):
        return y - np.exp(log_pi)


# -- entropy mistakes -------------------------------------------------------------------
class _EntropyMistake(CategoricalEntropy):
    """A wrong backward: ``dlogits(dH, pi, log_pi, H)``."""

    def backward(self, dH):
        pi, log_pi, H = self.take()
        return self.dlogits(dH, pi, log_pi, H)


class _NaiveSoftmaxEntropy(CategoricalEntropy):
    def forward(self, logits):
        H = super().forward(logits)
        self.save(logits)
        return H

    def backward(self, dH):
        a = self.take()
        with np.errstate(all="ignore"):
            e = np.exp(a)
            pi = e / np.sum(e, axis=-1, keepdims=True)
            log_pi = np.log(pi)
            H = -np.sum(pi * log_pi, axis=-1)
            return dH[..., None] * -pi * (log_pi + H[..., None])


class _NoChainRuleThroughSoftmax(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * -(log_pi + 1.0)


class _DiagonalJacobian(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * -pi * (log_pi + 1.0)


class _ForgetsTheH(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * -pi * log_pi


class _HSignFlipped(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * -pi * (log_pi - H[..., None])


class _WithoutThePi(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * -(log_pi + H[..., None])


class _EntropySign(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * pi * (log_pi + H[..., None])


class _JacobianSumOverBatch(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        g = -(log_pi + 1.0)  # dH/dpi
        # the off-diagonal part's sum over j taken down axis 0, the batch, not along a row
        return dH[..., None] * pi * (g - (pi * g).sum(axis=0))


class _HWrongAxis(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH[..., None] * -pi * (log_pi + H)


class _DHWrongAxis(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH * -pi * (log_pi + H[..., None])


class _DHAndHWrongAxis(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return dH * -pi * (log_pi + H)  # both (B,): numpy lines them up with the K classes


class _IgnoresDH(_EntropyMistake):
    def dlogits(self, dH, pi, log_pi, H):
        return -pi * (log_pi + H[..., None])


EXERCISE = Exercise(
    number=13,
    chapter="ch. 3",
    slug="softmax_entropy",
    title="categorical from logits: the gradients of log Cat(y; softmax(a)) and of its entropy",
    target=("CategoricalLogDensity", "CategoricalEntropy"),
    reference=(CategoricalLogDensity, CategoricalEntropy),
    trial=trial,
    solution="tinyvae/distributions/categorical.py, CategoricalLogDensity.backward and "
    "CategoricalEntropy.backward",
    hints=[
        "Both are functions of the logits through the softmax alone: chain through pi (or "
        "log pi), and sum over every class j, since each a_k moves every pi_j, not only pi_k. "
        "Work out one row; its upstream value then scales all K entries of that row: "
        "dlogp[..., None] and dH[..., None] line the (B,) gradients up with the rows, not "
        "the classes. Take pi = np.exp(log_pi) from the cache (never exp(logits), which "
        "overflows at 800).",
        "The softmax's Jacobian is d pi_j / d a_k = pi_j (delta_jk - pi_k), so "
        "d log pi_j / d a_k = delta_jk - pi_k. For the log density, log p = "
        "sum_j y_j log pi_j gives d/da_k = sum_j y_j (delta_jk - pi_k) = y_k - pi_k "
        "(one-hot y sums to 1).",
        "For the entropy, dH/dpi_j = -(log pi_j + 1); chained through the whole Jacobian it "
        "gives -pi_k (log pi_k + 1) + pi_k sum_j pi_j (log pi_j + 1) = -pi_k (log pi_k + H).",
        "Log density: return None, dlogp[..., None] * (y - np.exp(log_pi)). "
        "Entropy: return dH[..., None] * -pi * (log_pi + H[..., None]).",
    ],
    mistakes=[
        Mistake(
            "softmax without the max shift",
            (_NaiveSoftmax, CategoricalEntropy),
            "the softmax overflows in the row of logits near 800: exp(800) = inf and "
            "inf / inf = NaN; take pi = exp(log pi) from the cached log-softmax, "
            "log pi = a - logsumexp(a), which is finite for any logits",
        ),
        Mistake(
            "forgets the normalizer",
            (_ForgetsTheNormalizer, CategoricalEntropy),
            "dlogits is dlogp * y, the derivative of sum_k y_k a_k alone: it misses the term from "
            "-logsumexp(a) in log pi_k = a_k - logsumexp(a) (hint 2 of 4 derives it)",
        ),
        Mistake(
            "log density sign",
            (_LogDensitySign, CategoricalEntropy),
            "dlogits has the wrong sign: yours is the gradient of "
            "-log p (the cross-entropy loss), and this module returns log p (hint 2 of 4 "
            "derives it)",
        ),
        Mistake(
            "log pi in place of pi",
            (_LogPiForPi, CategoricalEntropy),
            "dlogits uses log pi (the cached log-softmax) where the derivative needs "
            "pi = exp(log pi) itself (hint 2 of 4 derives it)",
        ),
        Mistake(
            "dlogp along the wrong axis",
            (_DlogpWrongAxis, CategoricalEntropy),
            "dlogp is broadcast along the wrong axis: dlogp has shape (B,), which numpy lines "
            "up with the last axis, the K classes; give it an axis, dlogp[..., None], so that "
            "row b is multiplied by dlogp[b]",
        ),
        Mistake(
            "ignores dlogp",
            (_IgnoresDlogp, CategoricalEntropy),
            "dlogits ignores dlogp: multiply the local derivative by the upstream gradient, "
            "dlogp[..., None], one value per row (the chain rule)",
        ),
        Mistake(
            "entropy softmax without the max shift",
            (CategoricalLogDensity, _NaiveSoftmaxEntropy),
            "the softmax overflows in the row of logits near +-800: exp(800) = inf, "
            "inf / inf = NaN, and log(exp(-800)) = log 0 = -inf; use the cached pi and "
            "log pi, computed from log pi = a - logsumexp(a)",
        ),
        Mistake(
            "no chain rule through the softmax",
            (CategoricalLogDensity, _NoChainRuleThroughSoftmax),
            "dlogits is -(log pi + 1), the gradient with respect to pi, not to the logits: the "
            "chain rule through the softmax is missing (hint 3 of 4 derives it)",
        ),
        Mistake(
            "diagonal of the softmax Jacobian only",
            (CategoricalLogDensity, _DiagonalJacobian),
            "dlogits is -pi (log pi + 1): it keeps only the diagonal of the softmax's Jacobian, "
            "as for an elementwise exp, and misses its off-diagonal part "
            "(each a_k moves every pi_j, not only pi_k) (hint 3 of 4 derives it)",
        ),
        Mistake(
            "forgets the H term",
            (CategoricalLogDensity, _ForgetsTheH),
            "dlogits is -pi log pi, which misses a term, pi_k times a number that is the same for "
            "every class of the row, from the off-diagonal part of the softmax's Jacobian "
            "(hint 3 of 4 derives it)",
        ),
        Mistake(
            "the H term's sign",
            (CategoricalLogDensity, _HSignFlipped),
            "dlogits has the H term with the wrong sign: sum_j pi_j log pi_j, from the "
            "off-diagonal part of the softmax's Jacobian, is -H, not H (H's definition "
            "carries a minus) (hint 3 of 4 derives it)",
        ),
        Mistake(
            "without the factor pi",
            (CategoricalLogDensity, _WithoutThePi),
            "dlogits misses a factor pi_k: both parts of the softmax's Jacobian in column k, "
            "diagonal and off-diagonal, carry pi_k, so every entry of the gradient does "
            "(without it the entry of a class with pi_k near 0 is huge) (hint 3 of 4 derives it)",
        ),
        Mistake(
            "entropy sign",
            (CategoricalLogDensity, _EntropySign),
            "dlogits has the wrong sign: yours is the gradient of sum_k pi_k log pi_k = -H, not "
            "of H (hint 3 of 4 derives it)",
        ),
        Mistake(
            "the Jacobian's sum over the batch",
            (CategoricalLogDensity, _JacobianSumOverBatch),
            "dlogits sums over axis 0, the batch, in the off-diagonal part of the softmax's "
            "Jacobian: that sum runs over the K classes j of one row (the last axis, with "
            "keepdims=True), so that each row stays its own; summed down the batch it mixes "
            "different examples (hint 3 of 4 derives it)",
        ),
        Mistake(
            "H along the wrong axis",
            (CategoricalLogDensity, _HWrongAxis),
            "H is broadcast along the wrong axis: H has shape (B,), which numpy lines up "
            "with the K classes; use H[..., None], so that row b adds its own entropy H[b]",
        ),
        Mistake(
            "dH along the wrong axis",
            (CategoricalLogDensity, _DHWrongAxis),
            "dH is broadcast along the wrong axis: dH has shape (B,), which numpy lines up "
            "with the last axis, the K classes; use dH[..., None], so that row b is "
            "multiplied by dH[b]",
        ),
        Mistake(
            "dH and H along the wrong axis",
            (CategoricalLogDensity, _DHAndHWrongAxis),
            "dH and H are both broadcast along the wrong axis: each has shape (B,), which numpy "
            "lines up with the last axis, the K classes; give each an axis, dH[..., None] and "
            "H[..., None], so that row b is multiplied by its own dH[b] and adds its own H[b]",
        ),
        Mistake(
            "ignores dH",
            (CategoricalLogDensity, _IgnoresDH),
            "dlogits ignores dH: multiply the local derivative by the upstream gradient, "
            "dH[..., None], one value per row (the chain rule)",
        ),
    ],
)
