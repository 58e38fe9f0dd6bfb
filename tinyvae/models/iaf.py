"""Inverse autoregressive flow: a posterior q(z|x) richer than a diagonal Gaussian.

Kingma, Salimans, Jozefowicz, Chen, Sutskever & Welling (2016), section 3 and
Algorithm 1. The encoder gives (mu, logvar) and a context h; a Gaussian draw
is then pushed through T invertible steps:

    z_0 = mu + sigma_0 * eps
    (m_t, s_t) = MADE_t(z_{t-1}, h),   sigma_t = sigmoid(s_t)
    z_t = sigma_t * z_{t-1} + (1 - sigma_t) * m_t                (eqs. 14-15)

Because m_t,i and s_t,i depend only on the z_{t-1,j} before i (the MADE's
masks), dz_t / dz_{t-1} is triangular with diagonal sigma_t, and the
log-density of the final sample is a sum:

    log q(z_T|x) = -sum_i [ 1/2 eps_i^2 + 1/2 log 2 pi + 1/2 logvar_i
                            + sum_{t=1..T} log sigma_t,i ]       (eq. 16 and Algorithm 1)

The order of the variables is reversed from one step to the next, so every
variable comes early in some step. The bias of s starts at ``forget_bias``
(the paper's forget-gate bias of +1 to +2), so each step starts near the
identity, sigma near 1.

Read ``IAFStep`` (one step, its backward and its log-determinant), then
``IAFPosterior``, which has the public methods of ``GaussianPosterior`` that
need only samples: ``forward(x, eps) -> (z, log_q)`` with its backward for
estimator A and IWAE, and ``encode``, ``sample_from``, ``sample``, ``mean``
for evaluation. It has no closed-form KL (estimator B refuses it) and no
density at a given z (inverting the flow takes D sequential passes), so the
score function and wake-sleep refuse it too.
"""

import numpy as np

from ..distributions.reparameterize import Reparameterize
from ..nn.functional import sigmoid, softplus
from ..nn.made import MADE
from ..nn.module import Module
from ..validation import check_float, check_int, check_rng, check_sizes
from .posterior import log_q_at_sample


class IAFStep(Module):
    """One IAF step: ``forward(z[, h]) -> (z_new, log_det)``, log_det = sum_i log sigma_i.

    ``z`` (N, D), ``h`` (N, context_dim) when the step has a context. The
    backward takes ``(dz_new, dlog_det)`` and returns ``(dz, dh)``, ``dh = None``
    without a context.
    """

    def __init__(
        self,
        z_dim,
        hidden,
        context_dim=0,
        order=None,
        forget_bias=2.0,
        activation="elu",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        forget_bias = check_float(forget_bias, "forget_bias")
        self.made = MADE(
            z_dim, hidden, 2, context_dim, order, "natural", activation, init, rng, dtype
        )
        self.z_dim, self.context_dim = self.made.z_dim, self.made.context_dim
        # the output layer's columns are [m (D), s (D)]: s starts at forget_bias, sigma near 1
        self.made.layers[-1].params["b"][self.z_dim :] += forget_bias

    def __repr__(self):
        return f"IAFStep({self.made!r})"

    def forward(self, z, h=None):
        m, s = self.made.forward(z, h)
        sigma = sigmoid(s)
        z_new = sigma * z + (1.0 - sigma) * m  # eq. 15: a gated update, sigma near 1 keeps z
        log_det = -np.sum(softplus(-s), axis=-1)  # sum_i log sigmoid(s_i), stably
        self.save(z, m, sigma)
        return z_new, log_det

    def backward(self, dz_new, dlog_det):
        z, m, sigma = self.take()
        # z_new_i = sigma_i z_i + (1 - sigma_i) m_i:  d/dm_i = 1 - sigma_i
        dm = (1.0 - sigma) * dz_new
        # d z_new_i / d s_i = sigma_i (1 - sigma_i) (z_i - m_i), and
        # d log_det / d s_i = d log sigmoid(s_i) / d s_i = 1 - sigma_i
        ds = sigma * (1.0 - sigma) * (z - m) * dz_new + (1.0 - sigma) * dlog_det[:, None]
        dz_made, dh = self.made.backward(dm, ds)
        # z reaches z_new directly (d/dz_i = sigma_i) and through the MADE (later variables)
        dz = sigma * dz_new + dz_made
        return dz, dh


class IAFPosterior(Module):
    """q(z|x): a diagonal Gaussian followed by ``steps`` IAF steps.

    ``encoder`` maps x (B, D) to ``2 * z_dim + context_dim`` numbers:
    ``mu``, ``logvar`` and the context h. Every step is a MADE with hidden
    sizes ``hidden`` reading (z, h); the first uses the natural order, and
    each next one the reverse of the one before. ``steps=0`` is the diagonal
    Gaussian itself, number for number.
    """

    def __init__(
        self,
        encoder,
        z_dim,
        steps,
        hidden,
        context_dim=0,
        forget_bias=2.0,
        activation="elu",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        self.z_dim = check_int(z_dim, "z_dim")
        n_steps = check_int(steps, "steps", minimum=0)
        self.context_dim = check_int(context_dim, "context_dim", minimum=0)
        check_sizes(hidden, "hidden")
        check_float(forget_bias, "forget_bias")
        rng = np.random.default_rng() if rng is None else check_rng(rng, "IAFPosterior")
        self.encoder = encoder
        self.reparameterize = Reparameterize()
        order = np.arange(self.z_dim)
        self.steps = []
        for _ in range(n_steps):
            self.steps.append(
                IAFStep(
                    self.z_dim,
                    hidden,
                    self.context_dim,
                    order,
                    forget_bias,
                    activation,
                    init,
                    rng,
                    dtype,
                )
            )
            order = self.z_dim - 1 - order  # reversed between steps (Kingma et al. 2016, §3)

    def __repr__(self):
        return f"IAFPosterior(z_dim={self.z_dim}, steps={len(self.steps)})"

    def _params(self, x):
        out = self.encoder.forward(x)
        J = self.z_dim
        if out.shape[1] != 2 * J + self.context_dim:
            self.encoder.clear_cache()
            raise ValueError(
                f"encoder: expected {2 * J + self.context_dim} outputs (mu and logvar, {J} each, "
                f"and a context of {self.context_dim}), got {out.shape[1]}"
            )
        return out[:, :J], out[:, J : 2 * J], out[:, 2 * J :]

    def _flow(self, z0, context):
        """Push z0 (L, B, J) through the steps: ``(z_T, sum_t log_det_t)``, (L, B, J) and (L, B)."""
        L, B, J = z0.shape
        z = z0.reshape(L * B, J)  # every sample of every example is one row of the MADE
        h = None
        if self.context_dim:
            h = np.broadcast_to(context, (L, B, self.context_dim)).reshape(L * B, -1)
        log_det = np.zeros(L * B, dtype=z0.dtype)
        for step in self.steps:
            z, step_log_det = step.forward(z, h)
            log_det += step_log_det
        return z.reshape(L, B, J), log_det.reshape(L, B)

    # -- a sample and its log-density (estimator A, IWAE) ------------------------
    def forward(self, x, eps):
        mu, logvar, context = self._params(x)
        z0 = self.reparameterize.forward(mu, logvar, eps)
        if z0.ndim == 2:
            z0 = z0[None]
        log_q = log_q_at_sample(logvar, eps)
        if self.steps:
            z, log_det = self._flow(z0, context)
            log_q = log_q - log_det  # each step divides the density by its |det| (eq. 16)
        else:
            z = z0
        self.save(np.shape(eps))
        return z.reshape(np.shape(eps)), np.reshape(log_q, np.shape(eps)[:-1])

    def backward(self, dz, dlog_q):
        eps_shape = self.take()
        dz = dz.reshape((-1, *eps_shape[-2:]))  # (L, B, J)
        L, B, J = dz.shape
        dz = dz.reshape(L * B, J)
        dlog_q = np.broadcast_to(dlog_q, eps_shape[:-1])
        # log q = base - sum_t log_det_t: every step's log_det gets -dlog_q
        dlog_det = -np.reshape(dlog_q, L * B)
        dh = np.zeros((L * B, self.context_dim), dtype=dz.dtype)
        for step in reversed(self.steps):
            dz, dh_step = step.backward(dz, dlog_det)
            if dh_step is not None:
                dh += dh_step  # every step reads the same context
        dmu, dlogvar, _ = self.reparameterize.backward(dz.reshape(eps_shape))
        # base log-density: d/dlogvar_j = -1/2, summed over the samples
        dlogvar -= 0.5 * np.reshape(dlog_q, (L, B)).sum(axis=0)[:, None]
        dcontext = dh.reshape(L, B, self.context_dim).sum(axis=0)  # h is shared by the L samples
        self.encoder.backward(np.concatenate([dmu, dlogvar, dcontext], axis=1))
        return None, None

    # -- evaluation, keeping nothing for a backward pass ------------------------------
    def encode(self, x):
        """What the encoder says about x: ``(mu, logvar, h)``."""
        params = self._params(x)
        self.clear_cache()
        return params

    def sample_from(self, params, eps):
        """``(z, log_q)`` for noise ``eps`` (B, J) or (L, B, J) given ``encode``'s parameters."""
        mu, logvar, context = params
        eps3 = eps if eps.ndim == 3 else eps[None]
        z0 = mu + np.exp(0.5 * logvar) * eps3
        log_q = log_q_at_sample(logvar, eps3)
        try:
            if self.steps:
                z, log_det = self._flow(z0, context)
                log_q = log_q - log_det
            else:
                z = z0
        finally:
            self.clear_cache()
        return z.reshape(eps.shape), log_q.reshape(eps.shape[:-1])

    def sample(self, x, eps):
        """``(z, log_q)``: z ~ q(z|x) for the noise ``eps``."""
        return self.sample_from(self.encode(x), eps)

    def mean(self, x):
        """The flow applied to mu (eps = 0), shape (B, J).

        The mean of q(z|x) has no closed form once the flow bends it; the
        image of the base Gaussian's centre stands in for it (active units).
        """
        params = self.encode(x)
        return self.sample_from(params, np.zeros_like(params[0]))[0]
