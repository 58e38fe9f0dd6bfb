"""The recognition model q(z|x): a diagonal Gaussian whose parameters an MLP computes.

    (mu, logvar) = encoder(x),   q(z|x) = N(z; mu, diag exp(logvar))   (AEVB appendix C.2)

A posterior is the part of a model that estimators, evaluation and wake-sleep
use to draw z and to score it, through public methods only, so that another
posterior (a normalizing flow) can take its place:

    forward(x, eps) -> (z, log_q)   a reparameterized sample and log q(z|x) at it
                                    (AEVB section 2.4), for estimator A and IWAE;
    forward_kl(x, eps) -> (z, kl)   the same sample and the closed-form
                                    KL(q(z|x) || N(0, I)) of AEVB appendix B, for
                                    estimator B (only posteriors that have one);
    forward_log_prob(z, x) -> log_q the density of a given z, which then is a
                                    constant (score function, wake-sleep's sleep);

each with its backward (``backward``, ``backward_kl``, ``backward_log_prob``),
and for evaluation, keeping no cache: ``log_prob(z, x)``, ``encode(x)`` (the
parameters of q), ``sample_from(params, eps)``, ``sample(x, eps)`` and
``mean(x)``.

With z = mu + sigma * eps, the log-density at the sample needs no division:

    log q(z|x) = -1/2 sum_j [ log 2 pi + logvar_j + eps_j^2 ]

which is how the IAF paper writes log q(z_T|x) (Kingma et al. 2016, section 3),
here with no flow steps. It is also exact where (z - mu)^2 / sigma^2 is not:
in float32, z - mu cancels once sigma is tiny next to |mu|.
"""

import numpy as np

from .._aliases import renamed
from ..distributions.gaussian import LOG_2PI, GaussianLogDensity
from ..distributions.kl import StandardNormalKL, standard_normal_kl
from ..distributions.reparameterize import Reparameterize
from ..nn.module import Module


def log_q_at_sample(logvar, eps):
    """log q(z|x) at z = mu + sigma eps: -1/2 sum_j (log 2 pi + logvar_j + eps_j^2)."""
    J = eps.shape[-1]
    return -0.5 * (np.sum(eps * eps, axis=-1) + np.sum(logvar, axis=-1) + J * LOG_2PI)


class GaussianPosterior(Module):
    """q(z|x) = N(mu, diag exp(logvar)) with ``(mu, logvar) = encoder(x)``.

    ``encoder`` maps x (B, D) to 2 * z_dim numbers: the first ``z_dim`` are
    ``mu``, the rest ``logvar``. ``eps`` has shape (B, J) or (L, B, J); z and
    the per-sample outputs then have its leading shape. The backward passes of
    ``forward`` and ``forward_kl`` return ``(None, None)``: x is data and eps
    is noise; the gradients go into the encoder's parameters.
    """

    def __init__(self, encoder, z_dim):
        super().__init__()
        self.encoder, self.z_dim = encoder, z_dim
        self.reparameterize = Reparameterize()
        self.kl = StandardNormalKL()
        self.density = GaussianLogDensity()

    def __repr__(self):
        return f"GaussianPosterior(z_dim={self.z_dim})"

    def _params(self, x):
        h = self.encoder.forward(x)
        return h[:, : self.z_dim], h[:, self.z_dim :]

    # -- a sample and its log-density (estimator A, IWAE) ------------------------
    def forward(self, x, eps):
        mu, logvar = self._params(x)
        z = self.reparameterize.forward(mu, logvar, eps)  # (L, B, J)
        self.save()  # the encoder and the reparameterization hold the activations
        return z, log_q_at_sample(logvar, eps)

    def backward(self, dz, dlog_q):
        self.take()
        # z depends on (mu, logvar) through the reparameterization
        dmu, dlogvar, _ = self.reparameterize.backward(dz)
        # log q = -1/2 sum_j (log 2 pi + logvar_j + eps_j^2): d/dlogvar_j = -1/2, d/dmu = 0,
        # summed over the leading sample axes of dlog_q
        dlog_q = dlog_q.reshape(-1, dlog_q.shape[-1]).sum(axis=0)
        dlogvar -= 0.5 * dlog_q[:, None]
        self.encoder.backward(np.concatenate([dmu, dlogvar], axis=1))  # as _params split it
        return None, None

    # -- a sample and the closed-form KL (estimator B) ----------------------------
    def forward_kl(self, x, eps):
        mu, logvar = self._params(x)
        z = self.reparameterize.forward(mu, logvar, eps)
        kl = self.kl.forward(mu, logvar)  # KL(q(z|x) || N(0, I)), (B,)
        self.save(phase="forward_kl")
        return z, kl

    def backward_kl(self, dz, dkl):
        self.take("forward_kl")
        dmu, dlogvar, _ = self.reparameterize.backward(dz)
        dmu_kl, dlogvar_kl = self.kl.backward(dkl)
        # mu and logvar reach the loss through both z and the KL: the paths add up
        self.encoder.backward(np.concatenate([dmu + dmu_kl, dlogvar + dlogvar_kl], axis=1))
        return None, None

    # -- the density of a given z ---------------------------------------------------
    def forward_log_prob(self, z, x):
        """log q(z|x) for a given z of shape (B, J) or (L, B, J): (B,) or (L, B); kept
        for ``backward_log_prob``."""
        mu, logvar = self._params(x)
        log_q = self.density.forward(z, mu, logvar)
        self.save(phase="forward_log_prob")
        return log_q

    def backward_log_prob(self, dlog_q):
        """Gradients of log q(z|x): ``(dz, None)``, and the encoder's parameters' in grads."""
        self.take("forward_log_prob")
        dz, dmu, dlogvar = self.density.backward(dlog_q)
        self.encoder.backward(np.concatenate([dmu, dlogvar], axis=1))  # as _params split it
        return dz, None

    log_prob_backward = renamed("backward_log_prob", "log_prob_backward")  # tinyvae 0.2

    # -- evaluation, keeping nothing for a backward pass ------------------------------
    def log_prob(self, z, x):
        """log q(z|x) for a given z, (B,) or (L, B); keeps no cache."""
        log_q = self.forward_log_prob(z, x)
        self.clear_cache()
        return log_q

    def encode(self, x):
        """The parameters of q(z|x): ``(mu, logvar)``, each (B, J)."""
        params = self._params(x)
        self.clear_cache()
        return params

    @staticmethod
    def sample_from(params, eps):
        """``(z, log_q)`` for noise ``eps`` given the parameters from ``encode``."""
        mu, logvar = params
        return mu + np.exp(0.5 * logvar) * eps, log_q_at_sample(logvar, eps)

    def sample(self, x, eps):
        """``(z, log_q)``: z ~ q(z|x) for the noise ``eps``."""
        return self.sample_from(self.encode(x), eps)

    def mean(self, x):
        """E_q[z|x] = mu, shape (B, J)."""
        return self.encode(x)[0]

    @staticmethod
    def analytic_kl(params):
        """KL(q(z|x) || N(0, I)) for the parameters from ``encode``, shape (B,)."""
        return standard_normal_kl(*params)
