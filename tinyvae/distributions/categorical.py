"""The categorical distribution from logits: log-probability, entropy, sampling.

For K classes with logits a, the probabilities are the softmax and their
logarithm the log-softmax,

    log pi_k = a_k - logsumexp(a),      pi_k = exp(log pi_k),

computed from the log-softmax so that no exp overflows. This is q(y|x) of
the semi-supervised model M2 (Kingma, Rezende, Mohamed & Welling 2014,
section 3.1.2), whose unlabelled bound needs the log-probability of a label
and the entropy:

    log Cat(y; pi) = sum_k y_k log pi_k          (y one-hot)
        d/da_k     = y_k - pi_k                  (for one-hot y: sum_k y_k = 1)
    H(pi)          = -sum_k pi_k log pi_k
        dH/da_k    = -pi_k (log pi_k + H)
    E_pi[v]        = sum_k pi_k v_k              (v: one value per class)
        d/da_k     = pi_k (v_k - E_pi[v]),   d/dv_k = pi_k

Labels are given as integers 0..K-1 (``one_hot`` turns them into rows) or as
one-hot rows.
"""

import numpy as np

from ..nn.functional import logsumexp
from ..nn.module import Module
from ..validation import check_int, check_rng


def log_softmax(a):
    """log pi = a - logsumexp(a) over the last axis: finite for any finite logits."""
    return a - logsumexp(a, axis=-1)[..., None]


def one_hot(labels, n_classes, dtype=np.float32):
    """Rows of ``n_classes`` zeros with a 1 at each label; labels must be integers in range."""
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels: expected integers 0..{n_classes - 1}, got dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels: expected integers 0..{n_classes - 1}, got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return np.eye(n_classes, dtype=dtype)[labels]


def check_one_hot(y, n_classes):
    """Raise a clear error unless every row of ``y`` is one-hot over ``n_classes``."""
    if not isinstance(y, np.ndarray) or y.dtype.kind != "f":
        raise TypeError("y: expected one-hot rows as a floating array (tinyvae...one_hot(labels))")
    if y.shape[-1] != n_classes:
        raise ValueError(f"y: expected one-hot rows of width {n_classes}, got shape {y.shape}")
    if not (np.isin(y, (0.0, 1.0)).all() and (y.sum(axis=-1) == 1).all()):
        raise ValueError("y: expected one-hot rows (one 1, the rest 0)")
    return y


def with_labels(inputs, y):
    """[inputs, y] along the last axis: M2's networks read a one-hot label beside their
    input. ``y`` (B, K) is broadcast over the leading sample axes of ``inputs``."""
    y = np.broadcast_to(y, (*inputs.shape[:-1], y.shape[-1]))
    return np.concatenate([inputs, y], axis=-1)


class CategoricalLogDensity(Module):
    """``forward(y, logits) -> log Cat(y; softmax(logits))``, one value per row.

    ``y`` is one-hot (data: its gradient is None); ``backward(dlogp) ->
    (None, dlogits)`` with dlogits = dlogp (y - pi).
    """

    def forward(self, y, logits):
        check_one_hot(y, logits.shape[-1])
        log_pi = log_softmax(logits)
        self.save(y, log_pi)
        return np.sum(y * log_pi, axis=-1)

    def backward(self, dlogp):
        y, log_pi = self.take()
        # d/da_k sum_j y_j (a_j - logsumexp(a)) = y_k - pi_k, since sum_j y_j = 1
        return None, dlogp[..., None] * (y - np.exp(log_pi))


class CategoricalEntropy(Module):
    """``forward(logits) -> H(softmax(logits))``, one value per row; backward -> dlogits."""

    def forward(self, logits):
        log_pi = log_softmax(logits)
        pi = np.exp(log_pi)
        entropy = -np.sum(pi * log_pi, axis=-1)
        self.save(pi, log_pi, entropy)
        return entropy

    def backward(self, dentropy):
        pi, log_pi, entropy = self.take()
        # dH/da_k = -sum_j (dpi_j/da_k)(log pi_j + 1) with dpi_j/da_k = pi_j (delta_jk - pi_k)
        #         = -pi_k (log pi_k + H)
        return dentropy[..., None] * -pi * (log_pi + entropy[..., None])


class CategoricalExpectation(Module):
    """``forward(logits, values) -> sum_k pi_k values_k``, the mean of a value per class.

    M2's unlabelled bound weights the labelled bound of each class by
    q(y|x) this way (Kingma et al. 2014, eq. 7). ``backward(dmean) ->
    (dlogits, dvalues)``: both the weights and the values get a gradient.
    """

    def forward(self, logits, values):
        pi = np.exp(log_softmax(logits))
        mean = np.sum(pi * values, axis=-1)
        self.save(pi, values, mean)
        return mean

    def backward(self, dmean):
        pi, values, mean = self.take()
        # dpi_j/da_k = pi_j (delta_jk - pi_k), so d/da_k sum_j pi_j v_j = pi_k (v_k - mean)
        dlogits = dmean[..., None] * pi * (values - mean[..., None])
        return dlogits, dmean[..., None] * pi  # d/dv_k sum_j pi_j v_j = pi_k


def sample_categorical(logits, rng):
    """One-hot draws y ~ Cat(softmax(logits)), one per row, by inverting the CDF.

    A uniform u in [0, 1) falls in class k with probability exactly pi_k.
    """
    check_rng(rng, "sample_categorical")
    pi = np.exp(log_softmax(logits))
    cdf = np.cumsum(pi, axis=-1)
    u = rng.random((*logits.shape[:-1], 1))
    labels = np.minimum(np.sum(cdf <= u, axis=-1), logits.shape[-1] - 1)  # cdf[-1] may be 1 - 1e-16
    return np.eye(logits.shape[-1], dtype=logits.dtype)[labels]
