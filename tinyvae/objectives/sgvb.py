"""The SGVB estimators of the ELBO (AEVB section 2.3), A and B, and B for a top layer.

For L samples z_l = g(eps_l, x) ~ q(z|x) (the reparameterization trick,
AEVB section 2.4) and log importance weights

    log w_l = log p(x|z_l) + log p(z_l) - log q(z_l|x),

    estimator A (AEVB eq. 6)    bound = 1/L sum_l log w_l
    estimator B (AEVB eq. 10)   bound = -KL(q(z|x) || p(z)) + 1/L sum_l log p(x|z_l)

B computes the KL in closed form (AEVB appendix B) and has lower variance;
A needs only samples and densities, so it works for any posterior, a
normalizing flow included. B refuses a posterior without a closed-form KL.
``SGVB_B_Top`` is B for a model with two stochastic layers: only the top
layer's KL is closed-form there.
"""

import numpy as np

from .objective import Objective


def has_closed_form_kl(model):
    """True if KL(q(z|x) || p(z)) is known in closed form: a posterior with
    ``forward_kl`` (its KL from N(0, I)) and the prior N(0, I) (``standard_normal``)."""
    return hasattr(model.posterior, "forward_kl") and getattr(model.prior, "standard_normal", False)


def forward_log_weights(model, x, eps):
    """log w_l = log p(x|z_l) + log p(z_l) - log q(z_l|x) for z_l ~ q(z|x): shape (L, B)."""
    z, log_q = model.posterior.forward(x, eps)  # (L, B, J), (L, B)
    return model.likelihood.forward(x, z) + model.prior.forward(z) - log_q


def backward_log_weights(model, dlog_w):
    """Backward of ``forward_log_weights`` for dL/dlog w of shape (L, B)."""
    # z reaches log w through log p(x|z) and log p(z); log q gets -dlog_w
    _, dz = model.likelihood.backward(dlog_w)
    dz += model.prior.backward(dlog_w)
    model.posterior.backward(dz, -dlog_w)


class SGVB_A(Objective):
    """SGVB estimator A (AEVB eq. 6): bound = 1/L sum_l log w_l."""

    name = "A"

    def forward(self, x, eps):
        return forward_log_weights(self.model, x, eps).mean(axis=0)

    def backward_bound(self, dbound, n_samples):
        # d bound / d log w_l = 1/L
        dlog_w = np.broadcast_to(dbound / n_samples, (n_samples, len(dbound)))
        backward_log_weights(self.model, dlog_w)


class SGVB_B(Objective):
    """SGVB estimator B (AEVB eq. 10): bound = 1/L sum_l log p(x|z_l) - KL(q(z|x) || p(z))."""

    name = "B"
    needs = "forward_kl"  # a sample and the closed-form KL

    def check_parts(self):
        model = self.model
        if not has_closed_form_kl(model):
            raise TypeError(
                "SGVB estimator B needs a posterior with a closed-form KL from the prior "
                f"(forward_kl, against the prior N(0, I)); {type(model.posterior).__name__} "
                f"with {type(model.prior).__name__} has none. "
                "Use estimator 'A' or 'iwae', which need only samples and densities."
            )

    def forward(self, x, eps):
        z, kl = self.model.posterior.forward_kl(x, eps)  # (L, B, J), (B,)
        log_px = self.model.likelihood.forward(x, z)  # (L, B)
        return log_px.mean(axis=0) - kl

    def backward_bound(self, dbound, n_samples):
        # d bound / d log p(x|z_l) = 1/L;  d bound / d KL = -1
        dlog_px = np.broadcast_to(dbound / n_samples, (n_samples, len(dbound)))
        _, dz = self.model.likelihood.backward(dlog_px)
        self.model.posterior.backward_kl(dz, -dbound)


class SGVB_B_Top(Objective):
    """Estimator B for two stochastic layers: the top layer's KL in closed form.

    bound = 1/L sum_l [ log p(x|z1_l) + log p(z1_l|z2_l) - log q(z1_l|x)
                        - KL(q(z2|z1_l) || N(0, I)) ]

    the ELBO of ``tinyvae.HierarchicalVAE`` with E over z2 of
    log p(z2) - log q(z2|z1) taken exactly (AEVB eq. 10 and appendix B, for
    the layer where it exists). Only z2's KL is analytic: z1's terms stay sampled.
    """

    name = "B_top"
    needs = "forward_top_kl"  # two layers, the top one's KL in closed form

    def check_parts(self):
        if not hasattr(self.model.posterior, "forward_top_kl"):
            raise TypeError(
                "estimator B_top needs a model with two stochastic layers "
                f"(posterior.forward_top_kl); {type(self.model.posterior).__name__} has none"
            )

    def forward(self, x, eps):
        z, log_q1, kl2 = self.model.posterior.forward_top_kl(x, eps)  # (L, B, J), (L, B) x 2
        log_px = self.model.likelihood.forward(x, z)
        log_pz1 = self.model.prior.forward(z, include_top=False)  # log p(z1|z2) only
        return (log_px + log_pz1 - log_q1 - kl2).mean(axis=0)

    def backward_bound(self, dbound, n_samples):
        # every sample's terms get 1/L of the bound's gradient; log q1 and the KL with a minus
        dterm = np.broadcast_to(dbound / n_samples, (n_samples, len(dbound)))
        _, dz = self.model.likelihood.backward(dterm)
        dz += self.model.prior.backward(dterm)
        self.model.posterior.backward_top_kl(dz, -dterm, -dterm)


def elbo_objective(model, n_samples=1):
    """Estimator B where the posterior allows it, else A: the ELBO either way."""
    if has_closed_form_kl(model):
        return SGVB_B(model, n_samples)
    return SGVB_A(model, n_samples)
