"""The ELBO with free bits per stochastic layer (Kingma et al. 2016, "free bits").

Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling (2016), "Improved
variational inference with inverse autoregressive flow", split the latent
variables into groups z_j and train on

    objective = mean_b E_q[log p(x_b|z)] - sum_j max(lambda, mean_b KL_j(x_b))

where KL_j is group j's part of the KL from q(z|x) to p(z) and mean_b is
over the batch. A group that carries fewer than lambda nats, on average over
the batch, pays lambda whatever it carries: nothing pulls it onto the
prior, so it is free to start carrying information. Above lambda it pays
its KL, as in the ELBO.

Here the groups are the stochastic layers. In ``tinyvae.HierarchicalVAE``,
whose top layer tends to collapse onto the prior (Burda et al. 2016,
Sønderby et al. 2016), each layer's KL is estimated as estimator B_top does
(``sgvb.py``):

    KL_1 = log q(z1|x) - log p(z1|z2)      at the sample (z1, z2) ~ q
    KL_2 = KL(q(z2|z1) || N(0, I))         in closed form (AEVB appendix B)

A model with one layer and a closed-form KL (the diagonal ``tinyvae.VAE``)
has one group, KL(q(z|x) || N(0, I)) as in estimator B.

KL_1 is a sampled estimate, and so is its batch mean: on a small batch it
can fall below lambda, or even below 0, where the layer's true KL does not.
With lambda = 0 the objective is the ELBO wherever both batch means are
positive. The decision is the batch's, so a per-example value of ``bound``
means something only within the chunk it was computed in.

The objective is not a bound on log p(x); ``evaluate`` reports the ELBO,
as for every objective, so that runs compare.
"""

import numpy as np

from ..validation import check_float
from .objective import Objective
from .sgvb import has_closed_form_kl


class FreeBits(Objective):
    """The ELBO with each stochastic layer's KL at least ``free_nats`` (lambda) per batch.

    Per example, the bound returned by ``forward`` is

        log p(x|z) - sum_j (KL_j if mean_batch KL_j >= lambda else lambda)

    averaged over the L samples, so that its batch mean is the objective above.
    """

    name = "free_bits"

    def __init__(self, model, free_nats, n_samples=1):
        super().__init__(model, n_samples)
        self.free_nats = free_nats

    @property
    def free_nats(self):
        return self._free_nats

    @free_nats.setter
    def free_nats(self, value):
        self._free_nats = check_float(value, "free_nats", 0)

    def __repr__(self):
        return f"FreeBits(free_nats={self.free_nats!r}, n_samples={self.n_samples})"

    def check_parts(self):
        two_layers = hasattr(self.model.posterior, "forward_top_kl")
        if not (two_layers or has_closed_form_kl(self.model)):
            raise TypeError(
                "FreeBits needs each layer's KL: two stochastic layers (tinyvae.HierarchicalVAE) "
                "or one with a closed-form KL from N(0, I) (the diagonal tinyvae.VAE); "
                f"{type(self.model.posterior).__name__} with {type(self.model.prior).__name__} "
                "has neither"
            )

    def settings(self):
        return {**super().settings(), "free_nats": self.free_nats}

    def forward(self, x, eps):
        model = self.model
        if hasattr(model.posterior, "forward_top_kl"):  # two layers
            z, log_q1, kl2 = model.posterior.forward_top_kl(x, eps)  # (L, B, J), (L, B) x 2
            kl1 = log_q1 - model.prior.forward(z, include_top=False)  # log p(z1|z2) only
            kl = np.stack([kl1.mean(axis=0), kl2.mean(axis=0)])  # (2, B)
        else:  # one layer
            z, kl = model.posterior.forward_kl(x, eps)  # (L, B, J), (B,)
            kl = kl[None]  # (1, B)
        log_px = model.likelihood.forward(x, z)  # (L, B)
        free = kl.mean(axis=1) < self.free_nats  # (layers,): below lambda on average
        self.saved = free  # the layers this forward left free, for its backward
        return log_px.mean(axis=0) - np.where(free[:, None], self.free_nats, kl).sum(axis=0)

    def backward_bound(self, dbound, n_samples):
        model, free = self.model, self.saved
        # d bound / d log p(x|z_l) = 1/L; a layer's KL gets -1/L, or 0 where lambda stood in
        dterm = np.broadcast_to(dbound / n_samples, (n_samples, len(dbound)))
        _, dz = model.likelihood.backward(dterm)
        if len(free) == 2:
            dkl1, dkl2 = (np.zeros_like(dterm) if f else -dterm for f in free)
            # KL_1 = log q(z1|x) - log p(z1|z2): d/dlog q = dkl1, d/dlog p = -dkl1
            dz += model.prior.backward(-dkl1)
            model.posterior.backward_top_kl(dz, dkl1, dkl2)  # (dz, dlog_q1, dkl2)
        else:  # the closed-form KL is one per example, shared by the L samples
            model.posterior.backward_kl(dz, np.zeros_like(dbound) if free[0] else -dbound)
