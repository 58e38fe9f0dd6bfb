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

from ..nn.activations import ACTIVATIONS
from ..nn.linear import INITS
from ..nn.mlp import MLP
from ..objectives import check_estimator, make_objective
from ..validation import (
    check_bool,
    check_choice,
    check_dtype,
    check_int,
    check_rng,
    check_sizes,
)
from .iaf import IAFPosterior
from .latent import AutoEncodingModel
from .likelihood import BernoulliLikelihood, GaussianLikelihood
from .posterior import GaussianPosterior
from .prior import StandardNormalPrior

LIKELIHOODS = ("bernoulli", "gaussian")


class VAE(AutoEncodingModel):
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
        # the bound loss() and fit use: any the posterior can serve (tinyvae.objectives)
        estimator = check_estimator(
            estimator, IAFPosterior if self.iaf_steps else GaussianPosterior
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
