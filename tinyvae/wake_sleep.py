"""The wake-sleep algorithm (Hinton, Dayan, Frey & Neal 1995), AEVB's baseline.

Wake-sleep trains the same two networks as a VAE -- the generative model
p_theta(x, z) = p(z) p_theta(x|z) (the decoder) and the recognition model
q_phi(z|x) (the encoder) -- but with two separate objectives instead of one
bound (AEVB section 5 and Figure 3 compare the two):

    wake   for data x, sample z ~ q_phi(z|x) and ascend log p_theta(x, z) in theta.
           z is a constant: no gradient flows into phi. With the fixed prior
           p(z) = N(0, I) only log p_theta(x|z) depends on theta.
    sleep  dream z ~ p(z), x ~ p_theta(x|z) and ascend log q_phi(z|x) in phi.
           The dream is a constant: no gradient flows into theta.

The wake phase is the decoder's half of the ELBO's gradient. The sleep phase
instead fits q_phi(z|x) to the model's posterior by minimizing
KL(p_theta(z|x) || q_phi(z|x)) on dreamed data: the KL the other way round from
the one in the ELBO, and on the model's data rather than the real data. So
wake-sleep optimizes no single objective; it is judged, as in AEVB Figure 3,
by the ELBO of the VAE that its two networks form.

Losses follow the library's convention: per example, summed over dimensions,
averaged over the batch, in nats. Each phase runs forward and then backward on
its own network: ``wake_loss`` / ``wake_backward`` fill the decoder's grads
only, ``sleep_loss`` / ``sleep_backward`` the encoder's only.
"""

import math
import time

import numpy as np
from tqdm.auto import tqdm

from .activations import sigmoid
from .batching import batches
from .batching import binarize as binarize_pixels
from .gaussian import GaussianLogDensity
from .reparameterize import sample_eps
from .train import History, TrainingDiverged, evaluate
from .vae import VAE


class WakeSleep:
    """Wake-sleep training of a tinyvae.VAE's networks (Hinton et al. 1995).

    Reuses ``vae.encoder`` and ``vae.decoder`` (and the VAE's likelihood), so
    ``vae.elbo``, ``vae.sample`` and checkpoints work unchanged, and an
    optimizer over ``vae.parameters()`` updates both networks.
    """

    def __init__(self, vae):
        if not isinstance(vae, VAE):
            raise TypeError(f"WakeSleep expects a tinyvae.VAE, got {type(vae).__name__}")
        self.vae = vae
        self.log_q = GaussianLogDensity()   # log q_phi(z|x) of the sleep phase
        self.cache = None                   # (phase, what its backward needs)
        self.wake_elbo = None               # batch mean ELBO of the last wake batch

    def clear_cache(self):
        """Forget every forward cache, ours and the VAE's."""
        self.cache = None
        self.log_q.clear_cache()
        self.vae.clear_cache()

    def _pop_cache(self, phase):
        """Return what the ``phase`` forward stored and forget it (one backward each)."""
        if self.cache is None or self.cache[0] != phase:
            last = f"the last forward was {self.cache[0]}_loss()" if self.cache else \
                "no forward is pending"
            raise RuntimeError(f"{phase}_backward() called without a matching {phase}_loss() "
                               f"({last}); call {phase}_loss() first")
        if self.vae.cache is not None:
            raise RuntimeError(f"vae.loss() ran after {phase}_loss() and overwrote its "
                               f"activations; call {phase}_loss() again")
        cache, self.cache = self.cache[1], None
        return cache

    # -- wake: the generative parameters theta ------------------------------------
    def wake_loss(self, x, rng=None, eps=None):
        """Batch mean of -log p_theta(x|z), z = mu + exp(logvar / 2) * eps ~ q_phi(z|x).

        The wake phase of Hinton et al. (1995): maximum likelihood for the
        decoder on completed data (x, z). Pass ``rng`` to draw ``eps`` or the
        noise itself, shape (B, z_dim) or (L, B, z_dim), for a deterministic
        loss (then averaged over the L samples too). -log p(z) is left out: it
        does not depend on theta. Also sets ``self.wake_elbo``, the batch mean
        of estimator B (AEVB eq. 10) at the same z, for reporting.
        """
        vae = self.vae
        x = vae.check_data(x)
        eps = vae._noise(len(x), rng, eps, 1)          # (L, B, J)
        self.clear_cache()                             # no stale activations survive
        mu, logvar = vae._encode(x)
        vae.encoder.clear_cache()                      # z is a constant: no backward into phi
        z = mu + np.exp(0.5 * logvar) * eps            # a sample of q_phi(z|x), (L, B, J)
        log_px = vae._log_px(x, z)                     # (L, B); caches the decoder's path
        # estimator B: log p(x|z) - KL(q(z|x) || p(z)), the KL of AEVB appendix B
        kl = 0.5 * np.sum(np.exp(logvar) + mu * mu - 1.0 - logvar, axis=-1)
        self.wake_elbo = float(np.mean(log_px.mean(axis=0) - kl))
        self.cache = ("wake", log_px.shape)
        return float(-log_px.mean())

    def wake_backward(self, dloss=1.0):
        """Add d(dloss * wake_loss)/dtheta into the decoder's ``grads`` only."""
        L, B = self._pop_cache("wake")
        # wake_loss = -1/(L B) sum_lb log p(x_b|z_lb): d wake_loss / d log p(x_b|z_lb) = -1/(L B)
        dlog_px = np.full((L, B), -dloss / (L * B), dtype=self.vae.dtype)
        # through the likelihood and the decoder; the returned dL/dz is dropped: z is data here
        self.vae._log_px_backward(dlog_px)

    # -- sleep: the recognition parameters phi ------------------------------------
    def dream(self, n, rng):
        """n dreams from the generative model: z ~ p(z) = N(0, I), x ~ p_theta(x|z).

        Binary x for the Bernoulli decoder; x = mu_x + exp(logvar_x / 2) * noise
        for the Gaussian one. Returns ``(z, x)``; nothing is kept for a backward.
        """
        z = sample_eps(rng, (self._check_n(n), self.vae.z_dim), self.vae.dtype)
        return z, self._dream_x(z, rng)

    def _dream_x(self, z, rng):
        vae = self.vae
        decoded = vae._decode(z)
        vae.clear_cache()
        if vae.likelihood == "bernoulli":
            # a uniform u in [0, 1) is below p with probability exactly p
            p = sigmoid(decoded)
            return (rng.random(p.shape) < p).astype(vae.dtype)
        mu_x, logvar_x = decoded
        return mu_x + np.exp(0.5 * logvar_x) * sample_eps(rng, mu_x.shape, vae.dtype)

    @staticmethod
    def _check_n(n):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer (the number of dreams), got {n!r}")
        return int(n)

    def sleep_loss(self, n, rng=None, z=None, x=None):
        """Batch mean of -log q_phi(z|x) over n dreams (z, x) ~ p_theta(z) p_theta(x|z).

        The sleep phase of Hinton et al. (1995): maximum likelihood for the
        encoder on dreamed pairs, a diagonal-Gaussian density of the dreamed z
        under (mu, logvar) = encoder(x). Pass ``rng`` to dream, or ``z`` (and
        optionally ``x``; without it x is dreamed from z with ``rng``) for a
        deterministic loss. Both must have n rows.
        """
        vae = self.vae
        n = self._check_n(n)
        if z is None and x is not None:
            raise ValueError("sleep_loss: x was given without the z it was dreamed from; "
                             "pass z too (or neither)")
        if z is not None:
            z = vae._check_z(z)
            if len(z) != n:
                raise ValueError(f"sleep_loss: z has {len(z)} rows, expected n = {n}")
        if x is not None:
            x = vae.check_data(x)
            if len(x) != n:
                raise ValueError(f"sleep_loss: x has {len(x)} rows, expected n = {n}")
        if x is None and rng is None:
            raise ValueError("sleep_loss: pass rng= (a numpy Generator) to dream, "
                             "or the dream itself as z= and x=")
        if z is None:
            z, x = self.dream(n, rng)
        elif x is None:
            x = self._dream_x(z, rng)
        self.clear_cache()                             # no stale activations survive
        mu, logvar = vae._encode(x)
        log_q = self.log_q.forward(z, mu, logvar)      # (n,)
        self.cache = ("sleep", n)
        return float(-log_q.mean())

    def sleep_backward(self, dloss=1.0):
        """Add d(dloss * sleep_loss)/dphi into the encoder's ``grads`` only."""
        n = self._pop_cache("sleep")
        # sleep_loss = -1/n sum_b log q(z_b|x_b): d sleep_loss / d log q(z_b|x_b) = -1/n
        dlog_q = np.full(n, -dloss / n, dtype=self.vae.dtype)
        # d log q / d(mu, logvar) (gaussian.py); dL/dz is dropped: the dreamed z is data
        _, dmu, dlogvar = self.log_q.backward(dlog_q)
        self.vae.encoder.backward(np.concatenate([dmu, dlogvar], axis=1))

    # -- one step of both phases ----------------------------------------------------
    def step(self, x, optimizer, rng):
        """One wake-sleep update: returns ``(wake_loss, sleep_loss)`` before the step.

        Zeroes the gradients, runs the wake phase on ``x`` and the sleep phase
        on ``len(x)`` dreams, then takes one ``optimizer`` step. The phases'
        gradients touch disjoint parameters, so one optimizer over
        ``vae.parameters()`` steps each network on its own objective.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError("step needs rng=np.random.default_rng(seed) for the noise and dreams")
        self.vae.zero_grad()
        wake = self.wake_loss(x, rng=rng)
        self.wake_backward()
        sleep = self.sleep_loss(len(x), rng=rng)
        self.sleep_backward()
        optimizer.step()
        return wake, sleep


def fit_wake_sleep(wake_sleep, optimizer, x_train, x_test, *, epochs, rng, batch_size=100,
                   binarize=False, progress=True, verbose=True):
    """Train with wake-sleep for ``epochs`` epochs; returns a ``History``.

    As in AEVB Figure 3, both losses are -ELBO of the VAE the two networks
    form, in nats per example: ``train_loss`` the running mean of estimator B
    on the training batches before each step (``WakeSleep.wake_elbo``),
    ``test_loss`` -ELBO on ``x_test`` after each epoch (z sampled). With
    ``binarize=True`` each training batch is binarized afresh; ``x_test`` is
    evaluated as given. ``verbose`` also prints the wake and sleep losses.
    """
    if not isinstance(rng, np.random.Generator):
        raise TypeError("fit_wake_sleep needs rng=np.random.default_rng(seed)")
    vae = wake_sleep.vae
    vae.check_data(x_train)
    if x_test is not None:
        vae.check_data(x_test)        # now, not after a whole epoch of training
    history = History()
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        total = np.zeros(3)           # sums of -ELBO, wake loss, sleep loss
        count = 0
        bar = tqdm(batches(x_train, batch_size, rng), total=math.ceil(len(x_train) / batch_size),
                   disable=not progress, desc=f"epoch {epoch}/{epochs}", leave=False,
                   unit="batch")
        for x in bar:
            if binarize:
                x = binarize_pixels(x, rng)
            wake, sleep = wake_sleep.step(x, optimizer, rng)
            if not (np.isfinite(wake) and np.isfinite(sleep)):
                raise TrainingDiverged(f"wake loss {wake}, sleep loss {sleep} at epoch {epoch}: "
                                       "training stopped. Try a smaller learning rate.")
            total += np.array([-wake_sleep.wake_elbo, wake, sleep]) * len(x)
            count += len(x)
            bar.set_postfix(loss=f"{total[0] / count:.2f}")
        bar.close()

        history.epoch.append(epoch)
        history.train_loss.append(total[0] / count)
        history.test_loss.append(evaluate(vae, x_test, rng) if x_test is not None
                                 else float("nan"))
        history.seconds.append(time.perf_counter() - started)
        if verbose:
            tqdm.write(f"epoch {epoch:3d}  train loss {history.train_loss[-1]:8.3f}  "
                       f"test loss {history.test_loss[-1]:8.3f}  wake {total[1] / count:8.3f}  "
                       f"sleep {total[2] / count:8.3f}  ({history.seconds[-1]:.1f} s)")
    return history
