"""Exercise 10: the IWAE bound and its normalized importance weights, stable.

log_w (K, B): log w_k = log p(x, z_k) - log q(z_k|x), K samples along axis 0.

    bound = log (1/K) sum_k w_k = logsumexp_k(log w_k) - log K   (Burda et al. 2015, eq. (8))
    d bound / d log w_k = w_k / sum_k' w_k'    (the normalized weights, a softmax over k)

exp(-1000) is 0 in float64: log sum_k exp(a_k) = m + log sum_k exp(a_k - m), m = max_k a_k.
Check it with:  python -m tinyvae.exercises check ex10_iwae_weights.py
"""

import numpy as np


def iwae_bound(log_w):
    """log (1/K) sum_k exp(log_w[k]) per example: log_w (K, B) -> (B,)."""
    # TODO: a stable logsumexp over the K samples (axis 0), minus log K. Write it with
    # numpy: tinyvae's own logsumexp is the answer.
    raise NotImplementedError


def normalized_weights(log_w):
    """w_k / sum_k' w_k' per example: log_w (K, B) -> (K, B), each column summing to 1."""
    # TODO: a stable softmax over the K samples (axis 0).
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(10, (iwae_bound, normalized_weights)) else 1)
