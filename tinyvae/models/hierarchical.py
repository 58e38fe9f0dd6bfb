"""A VAE with two stochastic layers (thesis chapter 4; Burda, Grosse & Salakhutdinov 2016, §5).

    generative model    p(x, z1, z2) = p(z2) p(z1|z2) p(x|z1)
                        p(z2) = N(0, I),  p(z1|z2) = N(mu_p(z2), diag exp(logvar_p(z2))),
                        p(x|z1) Bernoulli from an MLP of z1
    recognition model   q(z1, z2|x) = q(z1|x) q(z2|z1), each a diagonal Gaussian
                        from an MLP, sampled bottom-up: x -> z1 -> z2

The three parts have the interface of the one-layer VAE's, with z = [z1, z2]
side by side (J1 + J2 numbers per sample), so estimator A and the
importance-weighted bound apply unchanged (IWAE eq. 8):

    log w = log p(x|z1) + log p(z1|z2) + log p(z2) - log q(z1|x) - log q(z2|z1).

    HierarchicalPosterior   forward(x, eps) -> (z, log q(z1, z2|x)); eps = [eps1, eps2]
    HierarchicalPrior       forward(z) -> log p(z2) + log p(z1|z2); it has weights
    likelihood              p(x|z1), its decoder reading the first J1 numbers of z

No KL between q(z1, z2|x) and the prior is known in closed form, so the
model has no ``forward_kl`` and estimator B refuses it. The top layer's is:
given z1, KL(q(z2|z1) || N(0, I)) is AEVB's appendix B, and estimator
"B_top" (``tinyvae.objectives.sgvb.SGVB_B_Top``) uses it:

    bound = log p(x|z1) + log p(z1|z2) - log q(z1|x) - KL(q(z2|z1) || p(z2)),

through ``posterior.forward_top_kl`` and ``prior.forward(z, include_top=False)``.
"""

import numpy as np

from ..distributions.gaussian import GaussianLogDensity, StandardNormalLogDensity
from ..distributions.kl import StandardNormalKL
from ..distributions.reparameterize import Reparameterize, sample_eps
from ..nn.activations import ACTIVATIONS
from ..nn.linear import INITS
from ..nn.mlp import MLP
from ..nn.module import Module, Sequential
from ..objectives import check_estimator, make_objective
from ..validation import check_choice, check_dtype, check_int, check_rng, check_sizes
from .latent import AutoEncodingModel
from .likelihood import BernoulliLikelihood
from .posterior import log_q_at_sample

# the bounds this model can be trained with: samples and densities, or the top layer's KL


class TakeFirst(Module):
    """``z (N, J) -> z[:, :k]``: a network that reads only the first k numbers.

    backward pads the gradient with zeros: the other numbers do not reach the output.
    """

    def __init__(self, k):
        super().__init__()
        self.k = k

    def forward(self, z):
        self.save(z.shape)
        return z[:, : self.k]

    def backward(self, dy):
        shape = self.take()
        dz = np.zeros(shape, dtype=dy.dtype)
        dz[:, : self.k] = dy
        return dz


def _split(params, J):
    return params[:, :J], params[:, J:]


class HierarchicalPosterior(Module):
    """q(z1|x) q(z2|z1), bottom-up: ``forward(x, eps) -> (z, log_q)``, z = [z1, z2].

    ``eps`` (B, J1 + J2) or (L, B, J1 + J2) holds eps1 and eps2 side by side;
    z1 = mu1(x) + sigma1(x) eps1 and z2 = mu2(z1) + sigma2(z1) eps2, and

        log q = -1/2 sum_j (log 2 pi + logvar1_j + eps1_j^2)
                -1/2 sum_k (log 2 pi + logvar2_k + eps2_k^2)

    (the density of each layer at its own reparameterized sample).
    """

    def __init__(self, encoder1, encoder2, z1_dim, z2_dim):
        super().__init__()
        self.encoder1, self.encoder2 = encoder1, encoder2
        self.z1_dim, self.z2_dim = z1_dim, z2_dim
        self.z_dim = z1_dim + z2_dim
        self.reparameterize1, self.reparameterize2 = Reparameterize(), Reparameterize()
        self.kl2 = StandardNormalKL()

    def __repr__(self):
        return f"HierarchicalPosterior(z1_dim={self.z1_dim}, z2_dim={self.z2_dim})"

    def _sample(self, params1, eps):
        """z = [z1, z2] (L, B, J) bottom-up for eps (L, B, J1 + J2), from q(z1|x)'s parameters,
        and what the densities need: ``(logvar1, eps1, mu2, logvar2, eps2)``."""
        mu1, logvar1 = params1
        eps1, eps2 = eps[..., : self.z1_dim], eps[..., self.z1_dim :]
        L, B = eps.shape[:2]
        z1 = self.reparameterize1.forward(mu1, logvar1, eps1)  # (L, B, J1)
        # q(z2|z1): every sample of z1 is a row of the second encoder
        mu2, logvar2 = _split(self.encoder2.forward(z1.reshape(L * B, -1)), self.z2_dim)
        eps2 = eps2.reshape(L * B, -1)
        z2 = self.reparameterize2.forward(mu2, logvar2, eps2)
        z = np.concatenate([z1, z2.reshape(L, B, -1)], axis=-1)
        return z, (logvar1, eps1, mu2, logvar2, eps2)

    def backward_sample(self, dz, dmu2, dlogvar2, dlogvar1):
        """Backward of ``_sample`` for dz (L, B, J), plus the gradients that other terms
        (a log-density, a KL) give the top layer's (mu2, logvar2) and the bottom logvar1."""
        L, B, J = dz.shape
        dz1, dz2 = dz[..., : self.z1_dim], dz[..., self.z1_dim :].reshape(L * B, -1)
        # z2 = mu2 + sigma2 eps2: (mu2, logvar2) reach the loss through z2 and the other terms
        dmu2_z, dlogvar2_z, _ = self.reparameterize2.backward(dz2)
        dh2 = np.concatenate([dmu2 + dmu2_z, dlogvar2 + dlogvar2_z], axis=1)
        # z1 reaches the loss directly and through (mu2, logvar2) = encoder2(z1)
        dz1 = dz1 + self.encoder2.backward(dh2).reshape(L, B, -1)
        # bottom layer: z1 = mu1 + sigma1 eps1, summed over the L samples by Reparameterize
        dmu1, dlogvar1_z, _ = self.reparameterize1.backward(dz1)
        self.encoder1.backward(np.concatenate([dmu1, dlogvar1 + dlogvar1_z], axis=1))

    @staticmethod
    def _log_q(logvar1, eps1, mu2, logvar2, eps2):
        """log q(z1|x) + log q(z2|z1) at the sample, (L, B)."""
        L, B = eps1.shape[:2]
        return log_q_at_sample(logvar1, eps1) + log_q_at_sample(logvar2, eps2).reshape(L, B)

    # -- a sample and its log-density (estimator A, IWAE) ------------------------
    def forward(self, x, eps):
        eps3 = eps if eps.ndim == 3 else eps[None]
        params1 = _split(self.encoder1.forward(x), self.z1_dim)
        z, saved = self._sample(params1, eps3)
        self.save(eps3.shape)
        return z.reshape(eps.shape), self._log_q(*saved).reshape(eps.shape[:-1])

    def backward(self, dz, dlog_q):
        L, B, J = self.take()
        dlog_q = np.reshape(dlog_q, (L, B))
        # log q = -1/2 sum (log 2 pi + logvar + eps^2) per layer: d/dlogvar = -1/2, d/dmu = 0
        self.backward_sample(
            dz.reshape(L, B, J),
            0.0,
            -0.5 * dlog_q.reshape(L * B, 1),
            -0.5 * dlog_q.sum(axis=0)[:, None],
        )
        return None, None

    # -- the top layer's KL in closed form (estimator B for the top layer) --------------
    def forward_top_kl(self, x, eps):
        """``(z, log_q1, kl2)``: the sample, log q(z1|x) at it, and KL(q(z2|z1) || N(0, I)).

        For eps (L, B, J) the shapes are (L, B, J), (L, B), (L, B) (the KL
        depends on each sample of z1); for eps (B, J), (B, J), (B,), (B,).
        """
        shape = eps.shape
        eps = eps if eps.ndim == 3 else eps[None]
        L, B = eps.shape[:2]
        params1 = _split(self.encoder1.forward(x), self.z1_dim)
        z, (logvar1, eps1, mu2, logvar2, _) = self._sample(params1, eps)
        kl2 = self.kl2.forward(mu2, logvar2).reshape(L, B)  # AEVB appendix B, per sample of z1
        self.save(eps.shape, phase="forward_top_kl")
        log_q1 = log_q_at_sample(logvar1, eps1)
        return z.reshape(shape), log_q1.reshape(shape[:-1]), kl2.reshape(shape[:-1])

    def backward_top_kl(self, dz, dlog_q1, dkl2):
        L, B, J = self.take("forward_top_kl")
        # (mu2, logvar2) reach the loss through the KL too; log q1 gives logvar1 -1/2 each
        dmu2_kl, dlogvar2_kl = self.kl2.backward(np.reshape(dkl2, L * B))
        dlogvar1 = -0.5 * np.reshape(dlog_q1, (L, B)).sum(axis=0)[:, None]
        self.backward_sample(dz.reshape(L, B, J), dmu2_kl, dlogvar2_kl, dlogvar1)
        return None, None

    # -- evaluation, keeping nothing for a backward pass ------------------------------
    def encode(self, x):
        """The parameters of q(z1|x): ``(mu1, logvar1)``, each (B, J1)."""
        params = _split(self.encoder1.forward(x), self.z1_dim)
        self.clear_cache()
        return params

    def sample_from(self, params, eps):
        """``(z, log_q)`` for noise ``eps`` (B, J) or (L, B, J), given ``encode``'s parameters."""
        eps3 = eps if eps.ndim == 3 else eps[None]
        try:
            z, saved = self._sample(params, eps3)
        finally:
            self.clear_cache()
        return z.reshape(eps.shape), self._log_q(*saved).reshape(eps.shape[:-1])

    def sample(self, x, eps):
        return self.sample_from(self.encode(x), eps)

    def mean(self, x):
        """[mu1(x), mu2(mu1(x))], shape (B, J1 + J2): q's means, the top one taken at z1 = mu1.

        E_q[z2|x] averages mu2 over z1 ~ q(z1|x) and has no closed form; the
        top layer's mean at the bottom layer's mean stands in for it.
        """
        params = self.encode(x)
        return self.sample_from(params, np.zeros((len(x), self.z_dim), params[0].dtype))[0]


class HierarchicalPrior(Module):
    """p(z1, z2) = N(z2; 0, I) N(z1; mu_p(z2), diag exp(logvar_p(z2))), over z = [z1, z2]."""

    def __init__(self, network, z1_dim, z2_dim, dtype):
        super().__init__()
        self.network = network  # z2 -> (mu_p, logvar_p) of z1
        self.z1_dim, self.z2_dim, self.dtype = z1_dim, z2_dim, dtype
        self.z_dim = z1_dim + z2_dim
        self.top = StandardNormalLogDensity()
        self.conditional = GaussianLogDensity()

    def __repr__(self):
        return f"HierarchicalPrior(z1_dim={self.z1_dim}, z2_dim={self.z2_dim})"

    def forward(self, z, include_top=True):
        """log p(z2) + log p(z1|z2) for z of shape (..., J1 + J2): (...).

        ``include_top=False`` leaves out log p(z2) (estimator B for the top
        layer takes that part in closed form).
        """
        lead = z.shape[:-1]
        z1 = z[..., : self.z1_dim].reshape(-1, self.z1_dim)
        z2 = z[..., self.z1_dim :].reshape(-1, self.z2_dim)
        mu, logvar = _split(self.network.forward(z2), self.z1_dim)
        log_p = self.conditional.forward(z1, mu, logvar)
        if include_top:
            log_p = log_p + self.top.forward(z2)
        self.save(z.shape, include_top)
        return log_p.reshape(lead)

    def backward(self, dlog_p):
        shape, include_top = self.take()
        dlog_p = dlog_p.reshape(-1)
        dz1, dmu, dlogvar = self.conditional.backward(dlog_p)
        # z2 reaches log p through (mu_p, logvar_p) = network(z2), and through log N(z2; 0, I)
        dz2 = self.network.backward(np.concatenate([dmu, dlogvar], axis=1))
        if include_top:
            dz2 += self.top.backward(dlog_p)
        return np.concatenate([dz1, dz2], axis=1).reshape(shape)

    def log_prob(self, z):
        """log p(z1, z2), keeping nothing for a backward pass."""
        try:
            return self.forward(z)
        finally:
            self.clear_cache()

    def sample(self, n, rng):
        """n draws [z1, z2] ~ p(z2) p(z1|z2), ancestrally: shape (n, J1 + J2)."""
        n = check_int(n, "n")
        z2 = sample_eps(rng, (n, self.z2_dim), self.dtype)
        mu, logvar = _split(self.network.forward(z2), self.z1_dim)
        self.clear_cache()
        z1 = mu + np.exp(0.5 * logvar) * sample_eps(rng, (n, self.z1_dim), self.dtype)
        return np.concatenate([z1, z2], axis=1)


class HierarchicalVAE(AutoEncodingModel):
    """A VAE with two stochastic layers; the defaults are the IWAE paper's (section 5).

    q(z1|x): x_dim -> hidden1 -> 2 z1_dim;  q(z2|z1): z1_dim -> hidden2 -> 2 z2_dim;
    p(z1|z2): z2_dim -> hidden2 reversed -> 2 z1_dim;  p(x|z1): z1_dim -> hidden1
    reversed -> x_dim Bernoulli logits. Everything a ``VAE`` offers for
    evaluation (``elbo``, ``sample``, ``reconstruct``, ``tv.log_likelihood``,
    ``tv.active_units``) works through the parts; the training bound is
    estimator A, "iwae" or "B_top" (``estimator`` None means "A").
    """

    def __init__(
        self,
        x_dim,
        hidden1=(200, 200),
        z1_dim=100,
        hidden2=(100, 100),
        z2_dim=50,
        activation="tanh",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
        estimator=None,
    ):
        super().__init__()
        self.x_dim = check_int(x_dim, "x_dim")
        self.hidden1 = check_sizes(hidden1, "hidden1")
        self.z1_dim = check_int(z1_dim, "z1_dim")
        self.hidden2 = check_sizes(hidden2, "hidden2")
        self.z2_dim = check_int(z2_dim, "z2_dim")
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        self.init = check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        estimator = check_estimator(estimator, HierarchicalPosterior)  # before any weight
        self.estimator = estimator
        rng = np.random.default_rng() if rng is None else check_rng(rng, "HierarchicalVAE")
        self.z_dim = self.z1_dim + self.z2_dim
        self.likelihood_name, self.bounded_mean, self.iaf_steps = "bernoulli", False, 0

        def mlp(n_in, hidden, n_out, input_grad=True):
            return MLP(n_in, hidden, n_out, activation, init, rng, dtype, input_grad=input_grad)

        J1, J2 = self.z1_dim, self.z2_dim
        self.encoder = mlp(self.x_dim, self.hidden1, 2 * J1, input_grad=False)
        self.encoder2 = mlp(J1, self.hidden2, 2 * J2)
        self.prior_network = mlp(J2, self.hidden2[::-1], 2 * J1)
        self.decoder = Sequential(TakeFirst(J1), mlp(J1, self.hidden1[::-1], self.x_dim))
        self.posterior = HierarchicalPosterior(self.encoder, self.encoder2, J1, J2)
        self.prior = HierarchicalPrior(self.prior_network, J1, J2, self.dtype)
        self.likelihood = BernoulliLikelihood(self.decoder)
        self.objective = make_objective(self, self.estimator)  # what loss() computes

    def config(self):
        return {
            "model": "hierarchical",
            "x_dim": self.x_dim,
            "hidden1": list(self.hidden1),
            "z1_dim": self.z1_dim,
            "hidden2": list(self.hidden2),
            "z2_dim": self.z2_dim,
            "activation": self.activation,
        }
