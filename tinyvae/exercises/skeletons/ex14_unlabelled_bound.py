"""Exercise 14: the backward pass of M2's unlabelled bound -U(x).

For an unlabelled example M2 treats the label as a latent variable and sums over its K values,
weighted by the classifier (Kingma, Rezende, Mohamed & Welling 2014, eq. (7)). With the logits
a of q(y|x) = Cat(y; pi) and the labelled bound of each class, c_k = -L(x, y=k), per row:

    log pi_k = a_k - logsumexp(a),     pi_k = exp(log pi_k)               (B, K)
    -U       = sum_k pi_k c_k + H(pi),    H(pi) = -sum_k pi_k log pi_k     (B,)

Write unlabelled_bound_backward(logits, c, dU). It receives the logits and c, both (B, K), and
dU (B,), the upstream gradient of -U, one value per row; it returns (dlogits, dc), both (B, K),
the gradients of -U with respect to the logits and to c, each row scaled by its dU.

Some logits are +-800, where exp(800) is inf in float64: compute log pi stably with
tv.distributions.log_softmax (a - logsumexp(a)) and pi from it, never from exp(logits).

Check it with:  python -m tinyvae.exercises check ex14_unlabelled_bound.py
"""

import numpy as np

import tinyvae as tv


def unlabelled_bound_backward(logits, c, dU):
    """The gradients of -U = sum_k pi_k c_k + H(pi), pi = softmax(logits), times dU.

    logits, c: (B, K), the classifier's logits and the labelled bounds -L(x, y=k);
    dU: (B,), the upstream gradient of -U. Returns (dlogits, dc), both (B, K).
    """
    # TODO: log pi and pi from the logits (stably: some logits are +-800), then
    # return (dlogits, dc), both (B, K).
    raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(14, unlabelled_bound_backward) else 1)
