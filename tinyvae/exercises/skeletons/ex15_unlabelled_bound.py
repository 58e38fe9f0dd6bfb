"""Exercise 15: the backward pass of M2's unlabelled bound -U(x).

-U = sum_k pi_k c_k + H(pi),  pi = softmax(a),  H = -sum_k pi_k log pi_k,  c_k = -L(x, y=k)
(Kingma, Rezende, Mohamed & Welling 2014, eq. 7); d pi_j / d a_k = pi_j (delta_jk - pi_k):

    d/da_k sum_j pi_j c_j = pi_k (c_k - sum_j pi_j c_j)      dH/da_k = -pi_k (log pi_k + H)
    d(-U)/da_k = pi_k (c_k - log pi_k - (-U))                d(-U)/dc_k = pi_k

logits and c are (B, K); dU, the upstream gradient of -U, is (B,): one value per row.
Check it with:  python -m tinyvae.exercises check ex15_unlabelled_bound.py
"""

import numpy as np

import tinyvae as tv


def unlabelled_bound_backward(logits, c, dU):
    """The gradients of -U = sum_k pi_k c_k + H(pi), pi = softmax(logits), times dU.

    logits, c: (B, K), the classifier's logits and the labelled bounds -L(x, y=k);
    dU: (B,), the upstream gradient of -U. Returns (dlogits, dc), both (B, K).
    """
    # TODO: log pi and pi from the logits (stable: some logits are +-800), -U per row,
    # then return (dlogits, dc).
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(15, unlabelled_bound_backward) else 1)
