"""Exercise 14: the backward passes of a categorical distribution from logits.

pi = softmax(a), log pi = a - logsumexp(a), over the last axis of logits a of shape (B, K);
d pi_j / d a_k = pi_j (delta_jk - pi_k)  (Kingma, Rezende, Mohamed & Welling 2014, sec. 3.1.2)

    log Cat(y; pi) = sum_k y_k log pi_k     (y one-hot)    d/da_k  = y_k - pi_k
    H(pi)          = -sum_k pi_k log pi_k                  dH/da_k = -pi_k (log pi_k + H)

log p, H and the upstream gradients dlogp, dH are (B,): one value per row.
Check it with:  python -m tinyvae.exercises check ex14_softmax_entropy.py
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

    raise SystemExit(0 if check(14, (CategoricalLogDensity, CategoricalEntropy)) else 1)
