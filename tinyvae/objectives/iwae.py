"""The importance-weighted bound of Burda, Grosse & Salakhutdinov (2015).

    bound = log 1/L sum_l w_l,   w_l = p(x, z_l) / q(z_l|x),   z_l ~ q(z|x)   (eq. 8)

computed with logsumexp. It is tighter than the ELBO for L > 1 and equals
estimator A at L = 1. Its gradient weights each sample's gradient of log w_l
by the normalized importance weight w_l / sum_l' w_l' (Burda et al. 2015, section 3).
"""

import math

import numpy as np

from ..nn.functional import logsumexp
from .objective import Objective
from .sgvb import backward_log_weights, forward_log_weights


class IWAE(Objective):
    """The importance-weighted bound with L = ``n_samples`` samples per example."""

    name = "iwae"

    @property
    def weights(self):
        """The normalized importance weights w_l / sum_l' w_l' of the last forward, (L, B)."""
        return self.saved

    def forward(self, x, eps):
        log_w = forward_log_weights(self.model, x, eps)  # (L, B)
        L = len(eps)
        bound = logsumexp(log_w, axis=0) - math.log(L)
        # normalized importance weights w_l / sum_l' w_l' = exp(log w_l - logsumexp)
        self.saved = np.exp(log_w - (bound + math.log(L)))
        return bound

    def backward_bound(self, dbound, n_samples):
        # d bound / d log w_l = w_l / sum_l' w_l'
        dlog_w = (dbound * self.saved).astype(self.model.dtype, copy=False)
        backward_log_weights(self.model, dlog_w)
