"""Exercise 10: the IWAE bound and its normalized importance weights, stable.

For K samples z_k ~ q(z|x) of one example, the importance weights are
w_k = p(x, z_k) / q(z_k|x). The importance-weighted bound (Burda, Grosse & Salakhutdinov
2015, eq. (8)) and the normalized importance weights (their section 3) are

    bound = log (1/K) sum_k w_k
    w~_k  = w_k / sum_k' w_k'          (each example's w~_k sum to 1 over k)

Both functions receive log_w, shape (K, B): log_w[k, b] = log w_k of example b, the K
samples along axis 0, the batch along axis 1. iwae_bound returns the bound, shape (B,);
normalized_weights returns w~, shape (K, B).

Log-weights of a real model lie hundreds of nats below zero, and exp(-1000) is 0 in
float64: both must be exact and finite for log-weights around -1000 and below.

Then, on paper: differentiate the bound in log w_k, and compare with w~_k.

Check it with:  python -m tinyvae.exercises check ex10_iwae_weights.py
"""

import numpy as np


def iwae_bound(log_w):
    """log (1/K) sum_k exp(log_w[k]) per example: log_w (K, B) -> (B,)."""
    # TODO: return the bound, shape (B,), finite for log_w around -1000. Write it with
    # numpy: tinyvae's own logsumexp is the answer.
    raise NotImplementedError


def normalized_weights(log_w):
    """w_k / sum_k' w_k' per example: log_w (K, B) -> (K, B), each column summing to 1."""
    # TODO: return the normalized weights, shape (K, B), finite for log_w around -1000.
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(10, (iwae_bound, normalized_weights)) else 1)
