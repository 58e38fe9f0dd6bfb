"""What every model with a latent variable shares, whatever its p and q.

A latent-variable model exposes three public parts, ``prior`` p(z),
``posterior`` q(z|x) and ``likelihood`` p(x|z), and checks what comes in at
its doors (``check_data``, ``check_z``, ``check_noise``): ``LatentVariableModel``.
A model trained by auto-encoding variational Bayes (the VAE, the two-layer
model) also offers the ways to use it, through those parts only:
``AutoEncodingModel`` -- encode, decode, reconstruct, draw, and the shortcuts
``loss``, ``backward`` and ``elbo`` to its objective (``tinyvae.objectives``).
"""

import numpy as np

from .._aliases import renamed
from ..distributions.bernoulli import SUPPORT
from ..distributions.reparameterize import sample_eps
from ..nn.module import Module
from ..objectives import make_objective
from ..objectives.sgvb import has_closed_form_kl
from ..validation import check_float, check_input, check_int, check_rng


class LatentVariableModel(Module):
    """The parts p(z), q(z|x), p(x|z) and the checks at a model's doors.

    A subclass sets ``x_dim``, ``z_dim``, ``dtype``, ``likelihood_name`` and
    the three parts.
    """

    family = "vae"  # the objectives that take it: validation.check_model

    # -- checking what comes in -------------------------------------------------
    def check_data(self, x):
        """Validate data before anything runs, so bad input changes no cache."""
        support = SUPPORT if self.likelihood_name == "bernoulli" else None  # x in [0, 1]
        x = check_input(x, "x", ndim=2, last_dim=self.x_dim, dtype=self.dtype, support=support)
        if len(x) == 0:
            raise ValueError("x: expected at least one example, got an empty batch")
        return x

    def check_z(self, z):
        return check_input(z, "z", ndim=2, last_dim=self.z_dim, dtype=self.dtype)

    def check_noise(self, batch, rng=None, eps=None):
        """Check where the noise comes from, drawing nothing: ``eps`` (as (L, B, J)) or None.

        Either ``eps`` itself, shape (B, z_dim) or (L, B, z_dim) with L >= 1,
        or ``rng``, a numpy Generator to draw it from.
        """
        if eps is None:
            if rng is None:
                raise ValueError("rng: pass rng= (a numpy Generator) or the noise itself as eps=")
            check_rng(rng)
            return None
        eps = check_input(eps, "eps", last_dim=self.z_dim, dtype=self.dtype)
        if eps.ndim == 2:
            eps = eps[None]
        if eps.ndim != 3 or eps.shape[1] != batch or len(eps) == 0:
            raise ValueError(
                f"eps: expected shape ({batch}, {self.z_dim}) or (L, {batch}, {self.z_dim}) "
                f"with L >= 1, got {eps.shape}"
            )
        return eps

    def noise(self, batch, rng=None, eps=None, n_samples=1):
        """eps of shape (L, B, z_dim): checked if given, else drawn from ``rng``."""
        eps = self.check_noise(batch, rng, eps)
        if eps is None:
            n_samples = check_int(n_samples, "n_samples")
            return sample_eps(rng, (n_samples, batch, self.z_dim), self.dtype)
        return eps


class AutoEncodingModel(LatentVariableModel):
    """A latent-variable model trained by AEVB: ``self.objective`` (its estimator, made
    once) and the ways to use the model, through its parts."""

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items() if k != "model")
        return f"{type(self).__name__}({args})"

    # -- using a trained model ---------------------------------------------------
    def encode(self, x):
        """The parameters of q(z|x), as ``posterior.encode`` gives them; keeps no cache.

        ``(mu, logvar)``, each (B, z_dim), for the Gaussian posterior;
        ``(mu, logvar, h)`` with an IAF; ``(mu1, logvar1)`` of q(z1|x) with two layers.
        """
        return self.posterior.encode(self.check_data(x))

    def decode(self, z):
        """The decoder's output for z: Bernoulli logits, or ``(mu_x, logvar_x)``."""
        return self.likelihood.decode(self.check_z(z))

    def decode_mean(self, z):
        """E[x|z], the mean of p(x|z), for latent codes z of shape (n, z_dim)."""
        return self.likelihood.mean(self.check_z(np.asarray(z, dtype=self.dtype)))

    def reconstruct(self, x, rng):
        """E[x|z] for one z ~ q(z|x): probabilities, or mu_x for the Gaussian decoder."""
        x = self.check_data(x)
        check_rng(rng, "reconstruct")
        z, _ = self.posterior.sample(x, sample_eps(rng, (len(x), self.z_dim), self.dtype))
        return self.likelihood.mean(z)

    def sample_means(self, n, rng):
        """E[x|z] for n draws z ~ p(z): the means of p(x|z), the images a figure shows."""
        n = check_int(n, "n")
        check_rng(rng, "sample_means")
        return self.likelihood.mean(self.prior.sample(n, rng))

    sample = renamed("sample_means", "sample")  # tinyvae 0.2's name; it returned means

    # -- shortcuts to tinyvae.objectives, kept from 0.1 ---------------------------
    def loss(self, x, rng=None, eps=None, n_samples=None, estimator=None, baseline=None):
        """Batch mean of -bound in nats per example; ``backward()`` then computes the gradient.

        The same as ``self.objective.loss(x, rng=rng, eps=eps)``, the model's
        estimator with one sample; given ``n_samples`` (default 1),
        ``estimator`` or ``baseline`` (default False), that of
        ``tinyvae.objectives.make_objective(self, estimator or self.estimator,
        n_samples, baseline)``. With ``eps`` given, its leading axis sets L.
        """
        objective = self.objective
        if not (n_samples is None and estimator is None and baseline is None):
            n_samples = 1 if n_samples is None else n_samples
            baseline = False if baseline is None else baseline
            objective = make_objective(self, estimator or self.estimator, n_samples, baseline)
        loss = objective.loss(x, rng=rng, eps=eps)
        self.save(objective, phase="loss")  # its backward is ours
        return loss

    def backward(self, dloss=1.0):
        """Add d(dloss * loss)/dparams into every parameter's ``grads``."""
        check_float(dloss, "dloss")  # before the pending forward is taken
        objective = self.take("loss")
        objective.backward(dloss)

    def elbo(self, x, rng=None, eps=None, n_samples=1, batch_size=1000, estimator=None):
        """Per-example bound, shape (B,), evaluated in chunks; keeps no cache.

        With the default estimator (B, or A for a posterior without a
        closed-form KL) this is an estimate of the ELBO with sampled z; other
        estimators give their own bound (for "iwae", the importance-weighted
        bound, which is not an ELBO). The same as
        ``make_objective(self, estimator, n_samples).bound(x, ...)``.
        """
        if estimator is None:
            estimator = "B" if has_closed_form_kl(self) else "A"
        return make_objective(self, estimator, n_samples).bound(
            x, rng=rng, eps=eps, batch_size=batch_size
        )
