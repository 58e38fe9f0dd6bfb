"""The variational autoencoder of AEVB and the bounds it can be trained with.

Generative model   p(z) = N(0, I),  p(x|z) = Bernoulli(sigmoid(decoder(z)))
                   or N(mu_x, exp(logvar_x)) for continuous data.
Recognition model  q(z|x) = N(mu, diag exp(logvar)),  (mu, logvar) = encoder(x).

Every bound starts from L reparameterized samples (AEVB section 2.4)

    z_l = mu + exp(logvar / 2) * eps_l,   eps_l ~ N(0, I),

and the log importance weights log w_l = log p(x|z_l) + log p(z_l) - log q(z_l|x).
The estimators (``estimator=``):

    "B"      SGVB estimator B (AEVB eq. 10): -KL(q(z|x) || p(z)) analytic
             + 1/L sum_l log p(x|z_l). The default: lowest variance.
    "A"      SGVB estimator A (AEVB eq. 6): 1/L sum_l log w_l, everything by
             Monte Carlo (for models where the KL has no closed form).
    "iwae"   the importance-weighted bound (Burda et al. 2015, eq. 8):
             log 1/L sum_l w_l, computed with logsumexp. Tighter; equals A at L = 1.
    "score"  the value of A, but the encoder's gradient by the score-function
             ("naive", REINFORCE) estimator of AEVB section 2.2,
             E_q[f(z) grad log q(z|x)] with f = log w, optionally minus a
             leave-one-out baseline (``baseline=True``, needs L >= 2).

``loss`` is the batch mean of -bound, in nats per example; ``backward`` sends
its gradient back through the likelihood, the decoder, the
reparameterization, the KL or the densities, and the encoder.
"""

import math

import numpy as np

from .activations import Sigmoid, sigmoid
from .bernoulli import BernoulliLogLikelihood
from .gaussian import GaussianLogDensity
from .kl import StandardNormalKL
from .mlp import MLP
from .module import Module, check_input
from .reparameterize import Reparameterize, sample_eps

LIKELIHOODS = ("bernoulli", "gaussian")
ESTIMATORS = ("B", "A", "iwae", "score")


def logsumexp(a, axis=0):
    """log sum exp(a) along ``axis``, shifted by the maximum so nothing overflows."""
    a_max = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(a_max, axis) + np.log(np.sum(np.exp(a - a_max), axis=axis))


class VAE(Module):
    """A VAE with MLP encoder and decoder.

    The encoder maps x (B, x_dim) to 2 * z_dim numbers, split into ``mu`` and
    ``logvar``. The decoder mirrors the encoder's hidden sizes and outputs
    Bernoulli logits (x_dim numbers) or, for ``likelihood="gaussian"``, a mean
    and a log-variance per pixel (2 * x_dim numbers). ``bounded_mean=True``
    passes the Gaussian mean through a sigmoid, so it lies in (0, 1), as AEVB
    does for Frey Face (appendix C.2). ``estimator`` is the default bound of
    ``loss`` (see the module docstring).
    """

    def __init__(self, x_dim, hidden=(400,), z_dim=20, activation="relu",
                 likelihood="bernoulli", init="glorot_uniform", rng=None, dtype=np.float32,
                 bounded_mean=False, estimator="B"):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"unknown likelihood {likelihood!r}; expected one of {LIKELIHOODS}")
        if bounded_mean and likelihood != "gaussian":
            raise ValueError("bounded_mean=True only applies to likelihood='gaussian'")
        self._check_estimator(estimator)
        if rng is None:
            rng = np.random.default_rng()
        hidden = tuple(int(h) for h in hidden)
        self.x_dim, self.hidden, self.z_dim = int(x_dim), hidden, int(z_dim)
        self.activation, self.likelihood, self.init = activation, likelihood, init
        self.bounded_mean, self.estimator = bool(bounded_mean), estimator
        self.dtype = np.dtype(dtype)

        out_dim = self.x_dim if likelihood == "bernoulli" else 2 * self.x_dim
        # the encoder's input is data: its backward need not compute dL/dx
        self.encoder = MLP(self.x_dim, hidden, 2 * self.z_dim, activation, init, rng, dtype,
                           input_grad=False)
        self.decoder = MLP(self.z_dim, hidden[::-1], out_dim, activation, init, rng, dtype)
        self.reparameterize = Reparameterize()
        self.kl = StandardNormalKL()                         # estimator B
        self.log_prior = GaussianLogDensity()                # log p(z), estimators A, iwae
        self.log_posterior = GaussianLogDensity()            # log q(z|x)
        if likelihood == "bernoulli":
            self.log_likelihood = BernoulliLogLikelihood()
        else:
            self.log_likelihood = GaussianLogDensity()
            self.mean_sigmoid = Sigmoid() if bounded_mean else None

    def config(self):
        """The constructor arguments that fix the architecture (saved in checkpoints)."""
        return {"x_dim": self.x_dim, "hidden": list(self.hidden), "z_dim": self.z_dim,
                "activation": self.activation, "likelihood": self.likelihood,
                "bounded_mean": self.bounded_mean}

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        return f"VAE({args})"

    @staticmethod
    def _check_estimator(estimator):
        if estimator not in ESTIMATORS:
            raise ValueError(f"unknown estimator {estimator!r}; expected one of {ESTIMATORS}")

    # -- the two networks ----------------------------------------------------
    def _encode(self, x):
        h = self.encoder.forward(x)
        return h[:, :self.z_dim], h[:, self.z_dim:]

    def _decode(self, z):
        out = self.decoder.forward(z)
        if self.likelihood == "bernoulli":
            return out
        mu_x, logvar_x = out[:, :self.x_dim], out[:, self.x_dim:]
        if self.bounded_mean:
            mu_x = self.mean_sigmoid.forward(mu_x)  # means in (0, 1), AEVB appendix C.2
        return mu_x, logvar_x

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
        if len(x) == 0:
            raise ValueError("x: expected at least one example, got an empty batch")
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

    def _log_px(self, x, z):
        """log p(x|z) for z of shape (L, B, J): returns (L, B)."""
        L, B, J = z.shape
        decoded = self._decode(z.reshape(L * B, J))
        if self.likelihood == "bernoulli":
            return self.log_likelihood.forward(decoded.reshape(L, B, -1), x)
        mu_x, logvar_x = decoded
        return self.log_likelihood.forward(x, mu_x.reshape(L, B, -1),
                                           logvar_x.reshape(L, B, -1))

    def _log_px_backward(self, dlog_px):
        """Backward of ``_log_px``: returns dL/dz of shape (L, B, J)."""
        L, B = dlog_px.shape
        if self.likelihood == "bernoulli":
            ddecoded = self.log_likelihood.backward(dlog_px).reshape(L * B, -1)
        else:
            _, dmu_x, dlogvar_x = self.log_likelihood.backward(dlog_px)  # dx unused: x is data
            dmu_x = dmu_x.reshape(L * B, -1)
            if self.bounded_mean:
                dmu_x = self.mean_sigmoid.backward(dmu_x)
            ddecoded = np.concatenate([dmu_x, dlogvar_x.reshape(L * B, -1)], axis=-1)
        return self.decoder.backward(ddecoded).reshape(L, B, self.z_dim)

    def _bound(self, x, eps, estimator):
        """The per-example bound (B,); fills the caches that ``backward`` needs.

        Returns ``(bound, saved)`` where ``saved`` holds what the estimator's
        backward needs beyond the sub-modules' caches.
        """
        mu, logvar = self._encode(x)
        z = self.reparameterize.forward(mu, logvar, eps)               # (L, B, J)
        log_px = self._log_px(x, z)                                     # (L, B)
        if estimator == "B":
            return log_px.mean(axis=0) - self.kl.forward(mu, logvar), None
        zero = np.zeros(1, dtype=self.dtype)
        log_w = (log_px + self.log_prior.forward(z, zero, zero)        # log p(x, z)
                 - self.log_posterior.forward(z, mu, logvar))           # - log q(z|x)
        if estimator == "iwae":
            L = len(eps)
            bound = logsumexp(log_w, axis=0) - math.log(L)
            # normalized importance weights w_l / sum_l' w_l' = exp(log_w - logsumexp)
            return bound, np.exp(log_w - (bound + math.log(L)))
        if estimator == "score":
            return log_w.mean(axis=0), (log_w, np.exp(0.5 * logvar))
        return log_w.mean(axis=0), None

    def loss(self, x, rng=None, eps=None, n_samples=1, estimator=None, baseline=False):
        """Batch mean of -bound (nats per example) for one draw of the noise.

        Pass ``rng`` to draw ``eps``, or ``eps`` itself, shape (B, z_dim) or
        (L, B, z_dim), to make the loss a deterministic function of the
        parameters. ``estimator`` defaults to the model's (see the module
        docstring); ``baseline`` applies to ``"score"``. ``backward()`` then
        computes the gradient.
        """
        estimator = estimator or self.estimator
        self._check_estimator(estimator)
        x = self.check_data(x)
        eps = self._noise(len(x), rng, eps, n_samples)
        if estimator == "score" and baseline and len(eps) < 2:
            raise ValueError("the leave-one-out baseline needs n_samples >= 2")
        bound, saved = self._bound(x, eps, estimator)
        self.cache = (estimator, baseline, eps, saved)  # the sub-modules cached the rest
        return float(-bound.mean())

    def backward(self, dloss=1.0):
        """Add d(dloss * loss)/dparams into every parameter's ``grads``."""
        estimator, baseline, eps, saved = self._pop_cache()
        L, B, _ = eps.shape
        # loss = -1/B sum_b bound_b, so every example's bound gets -dloss / B
        dbound = -dloss / B
        if estimator == "B":
            # bound_b = 1/L sum_l log p(x_b | z_lb) - KL_b
            dz = self._log_px_backward(np.full((L, B), dbound / L, dtype=self.dtype))
            dmu, dlogvar = self.reparameterize.backward(dz)
            dmu_kl, dlogvar_kl = self.kl.backward(np.full(B, -dbound, dtype=self.dtype))
            # mu and logvar reach the loss through both z and the KL: the paths add up
            self.encoder.backward(np.concatenate([dmu + dmu_kl, dlogvar + dlogvar_kl], axis=1))
            return

        # A: bound = 1/L sum_l log w_l        -> d bound / d log w_l = 1/L
        # iwae: bound = log 1/L sum_l w_l     -> d bound / d log w_l = w_l / sum_l' w_l'
        weights = saved if estimator == "iwae" else np.full((L, B), 1.0 / L, self.dtype)
        dlog_w = (dbound * weights).astype(self.dtype, copy=False)
        # log w = log p(x|z) + log p(z) - log q(z|x): each term is a path to z
        dz = self._log_px_backward(dlog_w)
        dz_prior, _, _ = self.log_prior.backward(dlog_w)
        dz_post, dmu_post, dlogvar_post = self.log_posterior.backward(-dlog_w)
        if estimator == "score":
            self.reparameterize.clear_cache()   # the encoder learns without this path
            log_w, sigma = saved
            dmu, dlogvar = self._score_function(log_w, sigma, eps, baseline, dbound)
        else:
            dmu, dlogvar = self.reparameterize.backward(dz + dz_prior + dz_post)
            # log q(z|x) also depends on (mu, logvar) directly, not only through z
            dmu, dlogvar = dmu + dmu_post, dlogvar + dlogvar_post
        self.encoder.backward(np.concatenate([dmu, dlogvar], axis=1))

    def _score_function(self, log_w, sigma, eps, baseline, dbound):
        """Encoder gradient by the score-function estimator (AEVB section 2.2).

        grad_phi E_q[f(z)] ~ 1/L sum_l (f(z_l) - b_l) grad_phi log q(z_l|x), with
        f = log w. For q = N(mu, sigma^2) and z = mu + sigma eps:
            d log q / d mu     = (z - mu) / sigma^2        = eps / sigma
            d log q / d logvar = ((z - mu)^2 / sigma^2 - 1) / 2 = (eps^2 - 1) / 2
        The leave-one-out baseline b_l = mean of f over the other L - 1 samples
        does not depend on z_l, so it keeps the estimator unbiased.
        """
        L = len(eps)
        f = log_w
        if baseline:
            f = f - (f.sum(axis=0) - f) / (L - 1)
        weight = dbound / L * f[..., None]                   # (L, B, 1)
        dmu = np.sum(weight * eps / sigma, axis=0)
        dlogvar = np.sum(weight * 0.5 * (eps * eps - 1.0), axis=0)
        return dmu.astype(self.dtype, copy=False), dlogvar.astype(self.dtype, copy=False)

    def elbo(self, x, rng=None, eps=None, n_samples=1, batch_size=1000, estimator="B"):
        """Per-example bound, shape (B,), evaluated in chunks (estimator B by default).

        The latent code is sampled (a bound computed at z = mu would not be the
        ELBO). Nothing is kept for a backward pass.
        """
        self._check_estimator(estimator)
        x = self.check_data(x)
        eps = self._noise(len(x), rng, eps, n_samples)
        out = np.empty(len(x), dtype=self.dtype)
        for start in range(0, len(x), batch_size):
            stop = start + batch_size
            out[start:stop], _ = self._bound(x[start:stop], eps[:, start:stop], estimator)
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
