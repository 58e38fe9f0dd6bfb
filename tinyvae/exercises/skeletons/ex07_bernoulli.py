"""Exercise 7: the Bernoulli log-likelihood from logits (stable), and its backward.

A decoder for binary pixels outputs logits l, with p(x_d = 1 | z) = sigmoid(l_d). For data
x in [0, 1] and logits l, each (B, D), the log-likelihood sums over the pixels (the last
axis), one number per row (AEVB (Kingma & Welling 2013) appendix C.1):

    log p(x | z) = sum_d [ x_d log sigmoid(l_d) + (1 - x_d) log(1 - sigmoid(l_d)) ]
                 = sum_d [ x_d l_d - softplus(l_d) ],      softplus(l) = log(1 + exp(l))

forward(x, logits) returns log p(x | z), shape (B,). A VAE decodes L samples of z per
example: the logits are then (L, B, D) against x (B, D), and log p is (L, B); the check
tries both. It must be finite for logits of any size: try l = +-800, where sigmoid(l)
rounds to 0 or 1 and exp(800) is inf in float64.

backward(dlogp) receives the upstream gradient dlogp, the shape of log p, one value per
row, and returns (None, dlogits): None for x, which is data; dlogits, the gradient of the
loss in the logits, the shape of the logits. The module has no parameters: self.grads is
left alone.

Check it with:  python -m tinyvae.exercises check ex07_bernoulli.py
"""

import numpy as np

import tinyvae as tv


class BernoulliLogDensity(tv.BernoulliLogDensity):
    """log p(x | z) from logits, with your forward and backward."""

    def forward(self, x, logits):
        # x: data in [0, 1], (B, D); logits: (B, D), any size
        self.save(logits, x)
        # TODO: return log p(x | z), shape (B,), finite even for logits of +-800.
        raise NotImplementedError

    def backward(self, dlogp):
        logits, x = self.take()  # what forward saved, each (B, D)
        # TODO: return (None, dlogits): x gets no gradient; dlogits is (B, D), dlogp (B,).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(7, BernoulliLogDensity) else 1)
