"""The variational autoencoder of AEVB: what p and q are, and nothing about training.

    generative model    p(z) = N(0, I)                         (prior.py)
                        p(x|z) Bernoulli or Gaussian, from an MLP decoder (likelihood.py)
    recognition model   q(z|x) = N(mu, diag exp(logvar)), from an MLP encoder (posterior.py),
                        optionally followed by inverse autoregressive flow steps (iaf.py)

A model exposes these three parts, ``model.prior``, ``model.posterior`` and
``model.likelihood``; the bounds it is trained with live in
``tinyvae.objectives`` and use only those parts. ``model.loss``,
``model.backward`` and ``model.elbo`` remain as shortcuts to the objectives.
"""

import numpy as np

from ..distributions.bernoulli import SUPPORT
from ..distributions.reparameterize import sample_eps
from ..nn.activations import ACTIVATIONS
from ..nn.linear import INITS
from ..nn.mlp import MLP
from ..nn.module import Module
from ..objectives import make_objective, resolve_estimator
from ..objectives.sgvb import has_closed_form_kl
from ..validation import (
    check_bool,
    check_choice,
    check_dtype,
    check_float,
    check_input,
    check_int,
    check_rng,
    check_sizes,
)
from .iaf import IAFPosterior
from .likelihood import BernoulliLikelihood, GaussianLikelihood
from .posterior import GaussianPosterior
from .prior import StandardNormalPrior

LIKELIHOODS = ("bernoulli", "gaussian")
# the estimators that need only z ~ q(z|x) and log q at it: all an IAF posterior offers
SAMPLE_ONLY_ESTIMATORS = ("A", "sgvb_a", "iwae")


class VAE(Module):
    """A VAE with MLP encoder and decoder.

    The encoder maps x (B, x_dim) to 2 * z_dim numbers, ``mu`` and
    ``logvar``. The decoder mirrors the encoder's hidden sizes and outputs
    Bernoulli logits (x_dim numbers) or, for ``likelihood="gaussian"``, a
    mean and a log-variance per pixel (2 * x_dim numbers). ``bounded_mean``
    squashes the Gaussian mean into (0, 1) (AEVB appendix C.2).
    ``estimator`` is the bound that ``loss`` and ``tinyvae.fit`` use unless
    told otherwise (a name from ``tinyvae.objectives.ESTIMATORS``; None: "B",
    or "A" for a posterior without a closed-form KL).

    ``iaf_steps > 0`` makes q(z|x) an inverse autoregressive flow
    (Kingma et al. 2016): the encoder also emits a context of ``iaf_context``
    numbers, and each step is a MADE with hidden sizes ``iaf_hidden``.
    """

    family = "vae"  # the objectives that take it: validation.check_model

    def __init__(
        self,
        x_dim,
        hidden=(400,),
        z_dim=20,
        activation="relu",
        likelihood="bernoulli",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
        bounded_mean=False,
        estimator=None,
        iaf_steps=0,
        iaf_hidden=(200,),
        iaf_context=50,
    ):
        super().__init__()
        # every argument is checked before the first weight is drawn from rng
        self.x_dim = check_int(x_dim, "x_dim")
        self.hidden = check_sizes(hidden, "hidden")
        self.z_dim = check_int(z_dim, "z_dim")
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.likelihood_name = check_choice(likelihood, "likelihood", LIKELIHOODS)
        self.init = check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        self.bounded_mean = check_bool(bounded_mean, "bounded_mean")
        if self.bounded_mean and likelihood != "gaussian":
            raise ValueError("bounded_mean: True only applies to likelihood='gaussian'")
        self.iaf_steps = check_int(iaf_steps, "iaf_steps", minimum=0)
        self.iaf_hidden = check_sizes(iaf_hidden, "iaf_hidden")
        self.iaf_context = check_int(iaf_context, "iaf_context", minimum=0)
        if self.iaf_steps and not self.iaf_hidden:
            raise ValueError("iaf_hidden: an IAF step needs at least one hidden layer, got none")
        if estimator is None:
            estimator = "A" if self.iaf_steps else "B"
        resolve_estimator(estimator)
        if estimator in ("B_top", "sgvb_b_top"):
            raise ValueError(
                f"estimator: {estimator!r} is for two stochastic layers (tinyvae.HierarchicalVAE)"
            )
        if self.iaf_steps and estimator not in SAMPLE_ONLY_ESTIMATORS:
            raise ValueError(
                f"estimator: {estimator!r} needs a closed-form KL or log q at a given z, which "
                f"an IAF posterior does not have; expected one of {list(SAMPLE_ONLY_ESTIMATORS)}"
            )
        self.estimator = estimator
        rng = np.random.default_rng() if rng is None else check_rng(rng, "VAE")
        hidden = self.hidden
        context = self.iaf_context if self.iaf_steps else 0

        out_dim = self.x_dim if likelihood == "bernoulli" else 2 * self.x_dim
        # the encoder's input is data: its backward need not compute dL/dx
        self.encoder = MLP(
            self.x_dim,
            hidden,
            2 * self.z_dim + context,
            activation,
            init,
            rng,
            dtype,
            input_grad=False,
        )
        self.decoder = MLP(self.z_dim, hidden[::-1], out_dim, activation, init, rng, dtype)
        # the three parts the objectives use; they hold the two networks above
        self.prior = StandardNormalPrior(self.z_dim, self.dtype)
        if self.iaf_steps:
            self.posterior = IAFPosterior(
                self.encoder,
                self.z_dim,
                self.iaf_steps,
                self.iaf_hidden,
                context,
                init=init,
                rng=rng,
                dtype=dtype,
            )
        else:
            self.posterior = GaussianPosterior(self.encoder, self.z_dim)
        if likelihood == "bernoulli":
            self.likelihood = BernoulliLikelihood(self.decoder)
        else:
            self.likelihood = GaussianLikelihood(self.decoder, self.x_dim, self.bounded_mean)
        self.objective = make_objective(self, self.estimator)  # what loss() computes

    def config(self):
        """The constructor arguments that fix the architecture (saved in checkpoints)."""
        config = {
            "x_dim": self.x_dim,
            "hidden": list(self.hidden),
            "z_dim": self.z_dim,
            "activation": self.activation,
            "likelihood": self.likelihood_name,
            "bounded_mean": self.bounded_mean,
        }
        if self.iaf_steps:  # only then: checkpoints of Gaussian VAEs keep their config
            config.update(
                iaf_steps=self.iaf_steps,
                iaf_hidden=list(self.iaf_hidden),
                iaf_context=self.iaf_context,
            )
        return config

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"VAE({args})"

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

    def sample(self, n, rng):
        """E[x|z] for n draws z ~ p(z) = N(0, I)."""
        n = check_int(n, "n")
        check_rng(rng, "sample")
        return self.likelihood.mean(self.prior.sample(n, rng))

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
