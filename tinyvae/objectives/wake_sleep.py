"""The wake-sleep algorithm (Hinton, Dayan, Frey & Neal 1995), AEVB's baseline.

Wake-sleep trains the same two networks as a VAE -- the generative model
p_theta(x, z) = p(z) p_theta(x|z) and the recognition model q_phi(z|x) --
with two objectives instead of one bound (AEVB section 5 and Figure 3
compare the two):

    wake   for data x, sample z ~ q_phi(z|x) and ascend log p_theta(x, z) in theta.
           z is a constant: no gradient flows into phi. With the fixed prior
           p(z) = N(0, I) only log p_theta(x|z) depends on theta.
    sleep  dream z ~ p(z), x ~ p_theta(x|z) and ascend log q_phi(z|x) in phi.
           The dream is a constant: no gradient flows into theta.

The wake phase is the decoder's half of the ELBO's gradient. The sleep phase
fits q_phi(z|x) to the model's posterior by minimizing KL(p_theta(z|x) ||
q_phi(z|x)) on dreamed data: the KL the other way round from the ELBO's, on
the model's data rather than the real data. So wake-sleep optimizes no single
objective; it is judged, as in AEVB Figure 3, by the ELBO of the VAE that its
two networks form, and that is what ``loss`` returns. ``backward`` adds the
gradients of both phases, each into its own network.

Everything goes through the model's public parts: ``posterior.sample`` and
``posterior.forward_log_prob`` (a posterior with a density at a given z),
``prior.sample`` and ``likelihood.forward`` / ``likelihood.sample``.
"""

import numpy as np

from .._aliases import renamed
from ..validation import check_float, check_int, check_model, check_rng
from .objective import Objective
from .sgvb import SGVB_B, has_closed_form_kl


class WakeSleep(Objective):
    """Wake-sleep training of a model's decoder (wake) and encoder (sleep).

    ``loss(x, rng)`` runs both phases on a batch and ``len(x)`` dreams and
    returns -ELBO (estimator B at the wake phase's z); ``backward(dloss)``
    fills the decoder's grads from the wake phase and the encoder's from the
    sleep phase. Each phase can also be run on its own: ``loss_wake`` /
    ``backward_wake`` and ``loss_sleep`` / ``backward_sleep``.
    """

    name = "wake_sleep"

    def __init__(self, vae):
        check_model(vae, self.family, "WakeSleep")
        if not hasattr(vae.posterior, "forward_log_prob"):
            raise TypeError(
                "the sleep phase needs log q(z|x) at a dreamed z (posterior.forward_log_prob)"
            )
        if not has_closed_form_kl(vae):
            raise TypeError(
                "wake-sleep reports the ELBO by estimator B, which needs a posterior with a "
                "closed-form KL from the prior N(0, I)"
            )
        super().__init__(vae, n_samples=1)
        self.vae = vae  # the model, under its tinyvae 0.1 name
        self.wake_elbo = None  # batch mean ELBO of the last wake batch

    def __repr__(self):
        return "WakeSleep()"

    def clear_cache(self):
        """Forget every forward cache, ours and the model's."""
        self.cache = None
        self.vae.clear_cache()

    # -- wake: the generative parameters theta ------------------------------------------
    def forward_wake(self, x, eps):
        """-log p_theta(x|z) averaged, z ~ q_phi(z|x) a constant; caches the decoder."""
        vae = self.vae
        params = vae.posterior.encode(x)
        z, _ = vae.posterior.sample_from(params, eps)  # (L, B, J), no path back into phi
        log_px = vae.likelihood.forward(x, z)  # (L, B)
        # estimator B at the same z, for reporting: log p(x|z) - KL (AEVB eq. 10)
        self.wake_elbo = float(np.mean(log_px.mean(axis=0) - vae.posterior.analytic_kl(params)))
        return log_px

    def loss_wake(self, x, rng=None, eps=None):
        """Batch mean of -log p_theta(x|z), z = mu + exp(logvar / 2) * eps ~ q_phi(z|x).

        Maximum likelihood for the decoder on completed data (x, z). Pass
        ``rng`` to draw ``eps`` or the noise itself, shape (B, J) or (L, B, J),
        for a deterministic loss. -log p(z) is left out: it does not depend
        on theta. Also sets ``self.wake_elbo``, the batch mean ELBO
        (estimator B) at the same z.
        """
        x = self.vae.check_data(x)
        eps = self.vae.noise(len(x), rng, eps, 1)  # (L, B, J)
        self.clear_cache()  # no stale activations survive
        log_px = self.forward_wake(x, eps)
        self.save(log_px.shape, phase="loss_wake", holding=[self.vae.likelihood])
        return float(-log_px.mean())

    def backward_wake(self, dloss=1.0):
        """Add d(dloss * loss_wake)/dtheta into the decoder's ``grads`` only."""
        dloss = check_float(dloss, "dloss")
        self._add_wake_gradient(dloss, self.take("loss_wake"))

    def _add_wake_gradient(self, dloss, shape):
        L, B = shape
        # loss_wake = -1/(L B) sum_lb log p(x_b|z_lb)
        dlog_px = np.full((L, B), -dloss / (L * B), dtype=self.vae.dtype)
        self.vae.likelihood.backward(dlog_px)  # dL/dz is dropped: z is data here

    # -- sleep: the recognition parameters phi ------------------------------------------
    def dream(self, n, rng):
        """n dreams z ~ p(z), x ~ p_theta(x|z): returns ``(z, x)``; keeps no cache."""
        z = self.vae.prior.sample(self._check_n(n), rng)
        return z, self.vae.likelihood.sample(z, rng)

    @staticmethod
    def _check_n(n):
        return check_int(n, "n (the number of dreams)")

    def loss_sleep(self, n, rng=None, z=None, x=None):
        """Batch mean of -log q_phi(z|x) over n dreams (z, x) ~ p(z) p_theta(x|z).

        Maximum likelihood for the encoder on dreamed pairs. Pass ``rng`` to
        dream, or ``z`` (and optionally ``x``; without it x is dreamed from z
        with ``rng``) for a deterministic loss. Both must have n rows.
        """
        vae = self.vae
        n = self._check_n(n)
        if z is None and x is not None:
            raise ValueError(
                "loss_sleep: x was given without the z it was dreamed from; pass z too (or neither)"
            )
        if z is not None:
            z = vae.check_z(z)
            if len(z) != n:
                raise ValueError(f"loss_sleep: z has {len(z)} rows, expected n = {n}")
        if x is not None:
            x = vae.check_data(x)
            if len(x) != n:
                raise ValueError(f"loss_sleep: x has {len(x)} rows, expected n = {n}")
        if x is None and rng is None:
            raise ValueError(
                "loss_sleep: pass rng= (a numpy Generator) to dream, "
                "or the dream itself as z= and x="
            )
        if z is None:
            z, x = self.dream(n, rng)
        elif x is None:
            x = vae.likelihood.sample(z, rng)
        self.clear_cache()  # no stale activations survive
        log_q = vae.posterior.forward_log_prob(z, x)  # (n,)
        self.save(n, phase="loss_sleep", holding=[vae.posterior])
        return float(-log_q.mean())

    def backward_sleep(self, dloss=1.0):
        """Add d(dloss * loss_sleep)/dphi into the encoder's ``grads`` only."""
        dloss = check_float(dloss, "dloss")
        self._add_sleep_gradient(dloss, self.take("loss_sleep"))

    def _add_sleep_gradient(self, dloss, n):
        # loss_sleep = -1/n sum_b log q(z_b|x_b); the dreamed (z, x) get no gradient
        self.vae.posterior.backward_log_prob(np.full(n, -dloss / n, dtype=self.vae.dtype))

    # -- both phases: the objective that tinyvae.fit trains -------------------------------
    def loss(self, x, rng=None, eps=None):
        """-ELBO of the batch (for reporting); runs the wake and the sleep forward passes.

        The noise is drawn in the order wake eps, dreamed z, dreamed x. The
        dreams are made first, while no activations are cached; then the
        wake phase caches the decoder and the sleep phase the encoder.
        """
        x = self.vae.check_data(x)
        check_rng(rng, "WakeSleep.loss")
        eps = self.vae.noise(len(x), rng, eps, 1)
        z_dream = self.vae.prior.sample(len(x), rng)
        x_dream = self.vae.likelihood.sample(z_dream, rng)
        self.clear_cache()
        log_px = self.forward_wake(x, eps)
        log_q = self.vae.posterior.forward_log_prob(z_dream, x_dream)
        parts = [self.vae.likelihood, self.vae.posterior]  # the wake and the sleep phase's
        self.save(log_px.shape, len(x), phase="loss", holding=parts)
        self.last_losses = (float(-log_px.mean()), float(-log_q.mean()))
        return -self.wake_elbo

    def backward(self, dloss=1.0):
        """The wake gradient into the decoder and the sleep gradient into the encoder."""
        dloss = check_float(dloss, "dloss")
        shape, n = self.take("loss")  # both phases intact before either adds a gradient
        self._add_wake_gradient(dloss, shape)
        self._add_sleep_gradient(dloss, n)

    # tinyvae 0.2's names of the two phases
    wake_loss = renamed("loss_wake", "wake_loss")
    wake_backward = renamed("backward_wake", "wake_backward")
    sleep_loss = renamed("loss_sleep", "sleep_loss")
    sleep_backward = renamed("backward_sleep", "sleep_backward")

    def bound(self, x, rng=None, eps=None, batch_size=1000):
        """The ELBO per example (estimator B): what wake-sleep is judged by (AEVB Fig. 3)."""
        return SGVB_B(self.vae).bound(x, rng=rng, eps=eps, batch_size=batch_size)

    def step(self, x, optimizer, rng):
        """One wake-sleep update: returns ``(loss_wake, loss_sleep)`` before the step.

        Zeroes the gradients, runs both phases and takes one ``optimizer``
        step. The phases' gradients touch disjoint parameters, so one
        optimizer over ``vae.parameters()`` steps each network on its own
        objective.
        """
        check_rng(rng, "WakeSleep.step")
        self.vae.check_data(x)  # before zero_grad: bad data changes no gradient
        optimizer.check_updates(self.vae)
        self.vae.zero_grad()
        self.loss(x, rng=rng)
        self.backward()
        optimizer.step()
        return self.last_losses
