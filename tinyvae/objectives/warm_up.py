"""Estimator A with the KL part of the bound warmed up from 0 to 1.

Early in training, the KL part of the ELBO can pull q(z|x) onto the prior
before the decoder has learnt to use z, and units that collapse then tend to
stay collapsed, most of all in the upper layers of a deeper model.
Deterministic warm-up (Sønderby et al. 2016, "Ladder Variational
Autoencoders"; Bowman et al. 2016 call it KL cost annealing)
weights that part by beta, rising linearly from 0 to 1 over the first steps:

    bound_beta = 1/L sum_l [ log p(x|z_l) + beta (log p(z_l) - log q(z_l|x)) ]

For beta = 1 it is estimator A (AEVB eq. 6); for beta < 1 it is not a bound
on log p(x), so a run is compared on the ELBO, which ``evaluate`` reports
whatever beta is. With two stochastic layers, log p(z) - log q(z|x) holds both
layers' terms, and beta weights them all.
"""

import numpy as np

from ..validation import check_float, check_int
from .sgvb import SGVB_A


class WarmUp(SGVB_A):
    """Estimator A with beta on log p(z) - log q(z|x): beta = min(1, step / warmup_steps).

    ``set_step(step)`` sets beta for the step after ``step`` steps (``fit``'s
    ``on_step`` passes that count); ``beta`` can also be set directly.
    """

    name = "A_warmup"

    def __init__(self, model, warmup_steps, n_samples=1):
        super().__init__(model, n_samples)
        self.warmup_steps = check_int(warmup_steps, "warmup_steps")
        self.beta = 0.0  # the first step's

    def __repr__(self):
        return f"WarmUp(warmup_steps={self.warmup_steps}, n_samples={self.n_samples})"

    @property
    def beta(self):
        return self._beta

    @beta.setter
    def beta(self, value):
        self._beta = check_float(value, "beta", 0, 1)

    def set_step(self, step):
        """beta for the step that follows ``step`` steps: linear from 0, then 1."""
        step = check_int(step, "step", 0)
        self.beta = min(1.0, step / self.warmup_steps)

    def settings(self):
        return {**super().settings(), "warmup_steps": self.warmup_steps}

    def forward(self, x, eps):
        model = self.model
        z, log_q = model.posterior.forward(x, eps)  # (L, B, J), (L, B)
        log_px = model.likelihood.forward(x, z)  # (L, B)
        self.saved = self.beta  # the beta of this forward, for its backward
        return (log_px + self.beta * (model.prior.forward(z) - log_q)).mean(axis=0)

    def backward_bound(self, dbound, n_samples):
        model, beta = self.model, self.saved
        # d bound / d log p(x|z_l) = 1/L;  d bound / d log p(z_l) = beta/L = -d bound / d log q
        dterm = np.broadcast_to(dbound / n_samples, (n_samples, len(dbound)))
        _, dz = model.likelihood.backward(dterm)
        dkl = beta * dterm
        dz += model.prior.backward(dkl)
        model.posterior.backward(dz, -dkl)
