"""Exercise 7: the Bernoulli log-likelihood from logits (stable), and its backward.

    log p(x | z) = sum_d [ x_d l_d - softplus(l_d) ]      (AEVB appendix C.1)

summed over the last axis, finite for logits of any size (try l = +-800):
softplus(l) = log(1 + exp(l)) = max(l, 0) + log1p(exp(-|l|)).
The gradient: dL/dl = dlogp * (x - sigmoid(l)), with dlogp of shape (B,).

Check it with:  python -m tinyvae.exercises check ex07_bernoulli.py
"""

import numpy as np

import tinyvae as tv


class BernoulliLogDensity(tv.BernoulliLogDensity):
    """log p(x | z) from logits, with your forward and backward."""

    def forward(self, x, logits):
        # x: data in [0, 1], (B, D); logits: (B, D), any size
        self.save(logits, x)
        # TODO: return sum over the last axis of x * logits - softplus(logits), shape (B,),
        # finite even for logits of +-800.
        raise NotImplementedError

    def backward(self, dlogp):
        logits, x = self.take()
        # TODO: return (None, dlogits): x is data and gets no gradient; dlogits is (B, D),
        # dlogp is (B,).
        raise NotImplementedError


if __name__ == "__main__":
    from tinyvae.exercises import check

    raise SystemExit(0 if check(7, BernoulliLogDensity) else 1)
