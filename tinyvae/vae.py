"""The variational autoencoder of AEVB, trained with SGVB estimator B.

Generative model   p(z) = N(0, I),  p(x|z) = Bernoulli(sigmoid(decoder(z)))
                   or N(mu_x, exp(logvar_x)) for continuous data.
Recognition model  q(z|x) = N(mu, diag exp(logvar)),  (mu, logvar) = encoder(x).

The per-example bound is estimator B (AEVB eq. 10): analytic KL plus a Monte
Carlo reconstruction term over L reparameterized samples,

    elbo(x) = -KL(q(z|x) || p(z)) + 1/L sum_l log p(x | z_l),
    z_l = mu + exp(logvar / 2) * eps_l,  eps_l ~ N(0, I).

``loss`` is the batch mean of -elbo, in nats per example; ``backward`` sends
its gradient back through the likelihood, the decoder, the
reparameterization, the KL and the encoder, in that order.
"""

import numpy as np

from .activations import sigmoid
from .bernoulli import BernoulliLogLikelihood
from .gaussian import GaussianLogDensity
from .kl import StandardNormalKL
from .mlp import MLP
from .module import Module, check_input
from .reparameterize import Reparameterize, sample_eps

LIKELIHOODS = ("bernoulli", "gaussian")


class VAE(Module):
    """A VAE with MLP encoder and decoder.

    The encoder maps x (B, x_dim) to 2 * z_dim numbers, split into ``mu`` and
    ``logvar``. The decoder mirrors the encoder's hidden sizes and outputs
    Bernoulli logits (x_dim numbers) or, for ``likelihood="gaussian"``, a mean
    and a log-variance per pixel (2 * x_dim numbers).
    """

    def __init__(self, x_dim, hidden=(400,), z_dim=20, activation="relu",
                 likelihood="bernoulli", init="glorot_uniform", rng=None, dtype=np.float32):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {likelihood!r}; expected one of {LIKELIHOODS}")
        if rng is None:
            rng = np.random.default_rng()
        hidden = tuple(int(h) for h in hidden)
        self.x_dim, self.hidden, self.z_dim = int(x_dim), hidden, int(z_dim)
        self.activation, self.likelihood, self.init = activation, likelihood, init
        self.dtype = np.dtype(dtype)

        out_dim = self.x_dim if likelihood == "bernoulli" else 2 * self.x_dim
        # the encoder's input is data: its backward need not compute dL/dx
        self.encoder = MLP(self.x_dim, hidden, 2 * self.z_dim, activation, init, rng, dtype,
                           input_grad=False)
        self.decoder = MLP(self.z_dim, hidden[::-1], out_dim, activation, init, rng, dtype)
        self.reparameterize = Reparameterize()
        self.kl = StandardNormalKL()
        if likelihood == "bernoulli":
            self.log_likelihood = BernoulliLogLikelihood()
        else:
            self.log_likelihood = GaussianLogDensity()

    def config(self):
        """The constructor arguments that fix the architecture (saved in checkpoints)."""
        return {"x_dim": self.x_dim, "hidden": list(self.hidden), "z_dim": self.z_dim,
                "activation": self.activation, "likelihood": self.likelihood}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"VAE({args})"

    # -- the two networks ----------------------------------------------------
    def _encode(self, x):
        h = self.encoder.forward(x)
        return h[:, :self.z_dim], h[:, self.z_dim:]

    def _decode(self, z):
        out = self.decoder.forward(z)
        if self.likelihood == "bernoulli":
            return out
        return out[:, :self.x_dim], out[:, self.x_dim:]

    def encode(self, x):
        """q(z|x): return ``(mu, logvar)``, each of shape (B, z_dim).

        Like every public method but ``loss``, it keeps nothing for a backward
        pass: calling it between ``loss`` and ``backward`` makes ``backward``
        raise instead of using the wrong activations.
        """
        mu, logvar = self._encode(self.check_data(x))
        self.clear_cache()
        return mu, logvar

    def decode(self, z):
        """p(x|z): Bernoulli logits (B, x_dim), or ``(mu_x, logvar_x)`` for Gaussian."""
        decoded = self._decode(self._check_z(z))
        self.clear_cache()
        return decoded

    # -- the bound -----------------------------------------------------------
    def check_data(self, x):
        """Validate data before anything runs, so bad input changes no cache."""
        x = check_input(x, "x", ndim=2, last_dim=self.x_dim, dtype=self.dtype)
        if self.likelihood == "bernoulli" and (x.min() < 0 or x.max() > 1):
            raise ValueError(
                "x: Bernoulli data must lie in [0, 1]; got values in "
                f"[{x.min():.4g}, {x.max():.4g}] (scale pixels to [0, 1] first)")
        return x

    def _check_z(self, z):
        return check_input(z, "z", ndim=2, last_dim=self.z_dim, dtype=self.dtype)

    def _noise(self, batch, rng, eps, n_samples):
        """eps of shape (L, B, z_dim): given explicitly, or drawn from rng."""
        if eps is None:
            if rng is None:
                raise ValueError("pass rng= (a numpy Generator) or the noise itself as eps=")
            if n_samples < 1:
                raise ValueError(f"n_samples must be >= 1, got {n_samples}")
            return sample_eps(rng, (n_samples, batch, self.z_dim), self.dtype)
        eps = check_input(eps, "eps", last_dim=self.z_dim, dtype=self.dtype)
        if eps.ndim == 2:
            eps = eps[None]
        if eps.ndim != 3 or eps.shape[1] != batch:
            raise ValueError(
                f"eps: expected shape ({batch}, {self.z_dim}) or (L, {batch}, {self.z_dim}), "
                f"got {eps.shape}"
            )
        return eps

    def _elbo(self, x, eps):
        """Estimator B for each example; leaves every sub-module's cache filled."""
        L, B, J = eps.shape
        mu, logvar = self._encode(x)
        z = self.reparameterize.forward(mu, logvar, eps)           # (L, B, J)
        decoded = self._decode(z.reshape(L * B, J))
        if self.likelihood == "bernoulli":
            log_px = self.log_likelihood.forward(decoded.reshape(L, B, -1), x)
        else:
            mu_x, logvar_x = decoded
            log_px = self.log_likelihood.forward(
                x, mu_x.reshape(L, B, -1), logvar_x.reshape(L, B, -1))
        kl = self.kl.forward(mu, logvar)                             # (B,)
        return log_px.mean(axis=0) - kl

    def loss(self, x, rng=None, eps=None, n_samples=1):
        """Batch mean of -elbo (nats per example) for one draw of the noise.

        Pass ``rng`` to draw ``eps``, or ``eps`` itself, shape (B, z_dim) or
        (L, B, z_dim), to make the loss a deterministic function of the
        parameters. ``backward()`` then computes its gradient.
        """
        x = self.check_data(x)
        eps = self._noise(len(x), rng, eps, n_samples)
        elbo = self._elbo(x, eps)
        self.cache = eps.shape[:2]  # (L, B); the sub-modules cached the rest
        return float(-elbo.mean())

    def backward(self, dloss=1.0):
        """Add d(dloss * loss)/dparams into every parameter's ``grads``."""
        L, B = self._pop_cache()
        dtype = self.dtype
        # loss = -1/B sum_b elbo_b, so every example's elbo gets -dloss / B
        delbo = -dloss / B
        # elbo_b = 1/L sum_l log p(x_b | z_lb) - KL_b
        dlog_px = np.full((L, B), delbo / L, dtype=dtype)
        dkl = np.full(B, -delbo, dtype=dtype)

        if self.likelihood == "bernoulli":
            ddecoded = self.log_likelihood.backward(dlog_px).reshape(L * B, -1)
        else:
            _, dmu_x, dlogvar_x = self.log_likelihood.backward(dlog_px)  # dx unused: x is data
            ddecoded = np.concatenate([dmu_x, dlogvar_x], axis=-1).reshape(L * B, -1)
        dz = self.decoder.backward(ddecoded).reshape(L, B, self.z_dim)
        dmu, dlogvar = self.reparameterize.backward(dz)
        dmu_kl, dlogvar_kl = self.kl.backward(dkl)
        # mu and logvar reach the loss through both z and the KL: the paths add up
        dh = np.concatenate([dmu + dmu_kl, dlogvar + dlogvar_kl], axis=1)
        self.encoder.backward(dh)

    def elbo(self, x, rng=None, eps=None, n_samples=1, batch_size=1000):
        """Per-example estimator-B ELBO, shape (B,), evaluated in chunks.

        The latent code is sampled (a bound computed at z = mu would not be the
        ELBO). Nothing is kept for a backward pass.
        """
        x = self.check_data(x)
        eps = self._noise(len(x), rng, eps, n_samples)
        out = np.empty(len(x), dtype=self.dtype)
        for start in range(0, len(x), batch_size):
            stop = start + batch_size
            out[start:stop] = self._elbo(x[start:stop], eps[:, start:stop])
        self.clear_cache()
        return out

    # -- using a trained model ----------------------------------------------
    def reconstruct(self, x, rng):
        """Mean of p(x|z) for one z ~ q(z|x): probabilities, or mu_x for Gaussian."""
        x = self.check_data(x)
        eps = sample_eps(rng, (len(x), self.z_dim), self.dtype)
        mu, logvar = self._encode(x)
        out = self._mean_of_decoder(mu + np.exp(0.5 * logvar) * eps)
        self.clear_cache()
        return out

    def sample(self, n, rng):
        """Decoder means for n draws z ~ p(z) = N(0, I)."""
        if int(n) != n or n < 1:
            raise ValueError(f"sample: n must be a positive integer, got {n!r}")
        return self.decode_mean(sample_eps(rng, (int(n), self.z_dim), self.dtype))

    def decode_mean(self, z):
        """Mean of p(x|z) for given latent codes z of shape (n, z_dim)."""
        out = self._mean_of_decoder(self._check_z(np.asarray(z, dtype=self.dtype)))
        self.clear_cache()
        return out

    def _mean_of_decoder(self, z):
        decoded = self._decode(z)
        if self.likelihood == "bernoulli":
            return sigmoid(decoded)
        return decoded[0]
