"""The generative model's p(x|z): a decoder MLP and the density it parameterizes.

    Bernoulli   logits = decoder(z),             p(x|z) = prod_d Bernoulli(x_d; sigmoid(l_d))
                                                 (AEVB appendix C.1)
    Gaussian    (mu_x, logvar_x) = decoder(z),   p(x|z) = N(x; mu_x, diag exp(logvar_x))
                                                 (AEVB appendix C.2; with ``bounded_mean``
                                                 mu_x = sigmoid(.) lies in (0, 1))

The Gaussian's log-variance has a floor, LOGVAR_MIN = log(1e-12) (a
standard deviation of 1e-6), explained in ``GaussianLikelihood``.

A likelihood follows the module protocol, ``forward(x, z) -> log p(x|z)`` and
``backward(dlog_px) -> (None, dz)`` (x is data), with z of shape (B, J) or
(L, B, J) for L samples per example; the output is (B,) or (L, B). For
evaluation it offers, keeping no cache: ``log_prob(x, z)``, ``decode(z)``
(what the decoder outputs), ``mean(z)`` (E[x|z]) and ``sample(z, rng)``.
"""

import numpy as np

from ..distributions.bernoulli import BernoulliLogDensity
from ..distributions.gaussian import GaussianLogDensity
from ..distributions.reparameterize import sample_eps
from ..nn.activations import Floor, Sigmoid
from ..nn.functional import sigmoid
from ..nn.module import Module
from ..validation import check_rng

LOGVAR_MIN = -27.631021  # log(1e-12): the Gaussian decoder's variance is at least 1e-12


class Likelihood(Module):
    """What the two decoders share: flattening the sample axes and evaluation helpers.

    A likelihood compares equal to its name (``model.likelihood ==
    "bernoulli"``), as ``VAE.likelihood`` was that string in tinyvae 0.1.
    """

    name = None

    def __init__(self, decoder):
        super().__init__()
        self.decoder = decoder

    def __eq__(self, other):
        if isinstance(other, str):
            return other == self.name
        return NotImplemented

    __hash__ = Module.__hash__

    def __repr__(self):
        return f"{type(self).__name__}()"

    def log_prob(self, x, z):
        """log p(x|z), keeping nothing for a backward pass."""
        log_px = self.forward(x, z)
        self.clear_cache()
        return log_px

    def decode(self, z):
        """The decoder's output for z of shape (n, J), keeping no cache."""
        out = self._decode(z)
        self.clear_cache()
        return out


class BernoulliLikelihood(Likelihood):
    """p(x|z) = Bernoulli(sigmoid(decoder(z))), for binary data."""

    name = "bernoulli"

    def __init__(self, decoder):
        super().__init__(decoder)
        self.density = BernoulliLogDensity()

    def _decode(self, z):
        return self.decoder.forward(z)  # logits

    def forward(self, x, z):
        logits = self.decoder.forward(z.reshape(-1, z.shape[-1]))  # (L B, D)
        self.save(z.shape)
        return self.density.forward(x, logits.reshape(*z.shape[:-1], -1))

    def backward(self, dlog_px):
        z_shape = self.take()
        _, dlogits = self.density.backward(dlog_px)
        dz = self.decoder.backward(dlogits.reshape(-1, dlogits.shape[-1]))
        return None, dz.reshape(z_shape)

    def mean(self, z):
        """E[x|z] = sigmoid(logits): pixel probabilities."""
        return sigmoid(self.decode(z))

    def sample(self, z, rng):
        """Binary x ~ p(x|z): a uniform u in [0, 1) is below p with probability exactly p."""
        check_rng(rng, "sample")
        p = self.mean(z)
        return (rng.random(p.shape) < p).astype(p.dtype)


class GaussianLikelihood(Likelihood):
    """p(x|z) = N(x; mu_x, diag exp(logvar_x)), for continuous data.

    The decoder outputs 2 * x_dim numbers: mu_x, then logvar_x. With
    ``bounded_mean=True`` mu_x passes through a sigmoid, as AEVB does for
    Frey Face (appendix C.2).

    The decoder's second half, ``r``, becomes the log-variance through a
    floor, logvar_x = max(r, LOGVAR_MIN), with gradient 1 above it and 0
    below. Without it the likelihood is unbounded: on a pixel that is 0 or 1
    in every image the mean can reach the data exactly (a float32 sigmoid
    rounds to 1.0 above 17), (x - mu)^2 is 0, every step lowers logvar_x,
    and exp(-logvar_x / 2) overflows to infinity below -177, where inf * 0
    is NaN. At the floor (x - mu)^2 / sigma^2 stays below 1e12 per pixel, and
    a trained decoder whose log-variances lie above it computes exactly
    what it would without the floor.
    """

    name = "gaussian"

    def __init__(self, decoder, x_dim, bounded_mean=False):
        super().__init__(decoder)
        self.x_dim, self.bounded_mean = x_dim, bounded_mean
        self.mean_sigmoid = Sigmoid() if bounded_mean else None
        self.logvar_floor = Floor(LOGVAR_MIN)
        self.density = GaussianLogDensity()

    def _decode(self, z):
        out = self.decoder.forward(z)
        mu_x, r = out[:, : self.x_dim], out[:, self.x_dim :]
        if self.bounded_mean:
            mu_x = self.mean_sigmoid.forward(mu_x)  # means in (0, 1), AEVB appendix C.2
        logvar_x = self.logvar_floor.forward(r)  # max(r, LOGVAR_MIN)
        return mu_x, logvar_x

    def forward(self, x, z):
        mu_x, logvar_x = self._decode(z.reshape(-1, z.shape[-1]))  # (L B, D) each
        self.save(z.shape)
        shape = (*z.shape[:-1], self.x_dim)
        return self.density.forward(x, mu_x.reshape(shape), logvar_x.reshape(shape))

    def backward(self, dlog_px):
        z_shape = self.take()
        _, dmu_x, dlogvar_x = self.density.backward(dlog_px)  # dx unused: x is data
        dmu_x = dmu_x.reshape(-1, self.x_dim)
        if self.bounded_mean:
            dmu_x = self.mean_sigmoid.backward(dmu_x)
        # d logvar_x / dr = 1 above the floor, 0 below it
        dr = self.logvar_floor.backward(dlogvar_x.reshape(-1, self.x_dim))
        dout = np.concatenate([dmu_x, dr], axis=-1)
        dz = self.decoder.backward(dout)
        return None, dz.reshape(z_shape)

    def mean(self, z):
        """E[x|z] = mu_x."""
        return self.decode(z)[0]

    def sample(self, z, rng):
        """x = mu_x + exp(logvar_x / 2) * noise ~ p(x|z)."""
        check_rng(rng, "sample")  # before decode clears the cache
        mu_x, logvar_x = self.decode(z)
        return mu_x + np.exp(0.5 * logvar_x) * sample_eps(rng, mu_x.shape, mu_x.dtype)
