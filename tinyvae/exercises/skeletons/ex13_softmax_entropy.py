"""Exercise 13: the backward passes of a categorical distribution from logits.

M2's classifier is q(y|x) = Cat(y; pi), pi = softmax(a) of K logits a (Kingma, Rezende, Mohamed
& Welling 2014): its labelled term, eq. (9), needs log q(y|x), and the unlabelled bound, eq. (7),
the entropy H(q(y|x)). Forward, over the last axis of the logits a (B, K), row by row:

    log pi_k       = a_k - logsumexp(a),   pi_k = exp(log pi_k)           (B, K)
    log Cat(y; pi) = sum_k y_k log pi_k        y one-hot, (B, K)          (B,)
    H(pi)          = -sum_k pi_k log pi_k                                 (B,)

Write the two backward passes. CategoricalLogDensity.backward(dlogp) receives dlogp (B,), the
upstream gradient of log Cat, and returns (None, dlogits): None for y, which is data, and
dlogits (B, K). CategoricalEntropy.backward(dH) receives dH (B,), the upstream gradient of H,
and returns dlogits (B, K). Forward cached (y, log pi) and (pi, log pi, H).

Some logits are +-800, where exp(800) is inf in float64: work from the cached log pi and pi
(computed by the log-softmax), never from exp(logits).

Check it with:  python -m tinyvae.exercises check ex13_softmax_entropy.py
"""

import numpy as np

import tinyvae as tv


class CategoricalLogDensity(tv.distributions.CategoricalLogDensity):
    """tinyvae's CategoricalLogDensity (its forward(y, logits)), with your backward."""

    def backward(self, dlogp):
        y, log_pi = self.take()  # one-hot y and log pi = log_softmax(logits), (B, K)
        # TODO: return (None, dlogits): y is data, dlogits is (B, K), from dlogp of shape (B,).
        raise NotImplementedError


class CategoricalEntropy(tv.distributions.CategoricalEntropy):
    """tinyvae's CategoricalEntropy (its forward(logits)), with your backward."""

    def backward(self, dH):
        pi, log_pi, H = self.take()  # pi and log pi (B, K), the entropy H (B,)
        # TODO: return dlogits, (B, K), from dH of shape (B,).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(13, (CategoricalLogDensity, CategoricalEntropy)) else 1)
