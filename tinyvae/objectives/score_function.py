"""The score-function ("naive", REINFORCE) gradient estimator of AEVB section 2.2.

The bound's value is estimator A's, 1/L sum_l f(z_l) with f = log w, but the
encoder's gradient does not go through the sample z; it uses

    grad_phi E_q[f(z)] ~ 1/L sum_l (f(z_l) - b_l) grad_phi log q(z_l|x),

with z held fixed. (f also depends on phi directly, through -log q(z|x); that
term's expectation is -E_q[grad_phi log q] = 0, so it is left out.) AEVB
shows this estimator has too high a variance to be practical.
The optional leave-one-out baseline b_l, the mean of f over the other L - 1
samples, does not depend on z_l, so it keeps the estimator unbiased while
lowering its variance. The decoder's gradient is the ordinary one.
"""

import numpy as np

from ..validation import check_bool
from .objective import Objective


class ScoreFunction(Objective):
    """Estimator A's value with the score-function gradient for the encoder."""

    name = "score"
    needs = "forward_log_prob"  # log q(z|x) at a given z, for the score

    def __init__(self, model, n_samples=1, baseline=False):
        super().__init__(model, n_samples)
        self.baseline = check_bool(baseline, "baseline")

    def check_parts(self):
        if not hasattr(self.model.posterior, "forward_log_prob"):
            raise TypeError(
                "the score-function estimator needs log q(z|x) at a given z (forward_log_prob); "
                f"{type(self.model.posterior).__name__} has none"
            )

    def __repr__(self):
        return f"ScoreFunction(n_samples={self.n_samples}, baseline={self.baseline})"

    def settings(self):
        return {**super().settings(), **({"baseline": True} if self.baseline else {})}

    def check_samples(self, n_samples):
        if self.baseline and n_samples < 2:
            raise ValueError(
                f"n_samples: the leave-one-out baseline needs n_samples >= 2, got {n_samples}"
            )

    def noise(self, batch, rng, eps):
        if eps is None:
            self.check_samples(self.n_samples)  # before drawing from the caller's rng
        eps = super().noise(batch, rng, eps)
        self.check_samples(len(eps))  # L of the given eps
        return eps

    def forward(self, x, eps):
        posterior = self.model.posterior
        z, _ = posterior.sample(x, eps)  # no gradient flows through z
        log_q = posterior.forward_log_prob(z, x)  # (L, B); keeps the encoder for the score
        log_px = self.model.likelihood.forward(x, z)  # caches the decoder
        log_w = log_px + self.model.prior.log_prob(z) - log_q
        self.saved = log_w
        return log_w.mean(axis=0)

    def backward_bound(self, dbound, n_samples):
        L = n_samples
        # the decoder: d bound / d log p(x|z_l) = 1/L, as in estimator A
        self.model.likelihood.backward(np.broadcast_to(dbound / L, (L, len(dbound))))
        # the encoder: 1/L sum_l (f_l - b_l) d log q(z_l|x) / dphi
        f = self.saved  # log w, (L, B)
        if self.baseline:
            f = f - (f.sum(axis=0) - f) / (L - 1)  # minus the mean of the other L - 1
        self.model.posterior.backward_log_prob((dbound / L * f).astype(self.model.dtype))
