"""Gaussian dropout in a linear layer, its rate fixed or learned (Kingma, Salimans & Welling 2015).

Gaussian dropout multiplies by noise N(1, alpha) (alpha = p / (1 - p) gives the
variance of binary dropout of rate p, section 3). Where the noise goes makes
two layers:

    type "A"   on the layer's inputs:   B = (A * (1 + sqrt(alpha) xi)) theta + b,
               xi (M, in) ~ N(0, 1): one noise per input unit and example, shared by
               the unit's outgoing weights;
    type "B"   on each weight, independently: q(w_ij) = N(theta_ij, alpha theta_ij^2),
               sampled by the local reparameterization trick (section 2.3):
               B = A theta + sqrt((A * A)(alpha theta^2)) * zeta + b,  zeta (M, out);
               or, to compare (``sampling``), by weights: W = theta * (1 + sqrt(alpha) eps),
               a sample per example ("separate", eps (M, in, out)) or one for the
               minibatch ("shared", eps (in, out)).

alpha is either fixed (``learn_alpha=False``: Gaussian dropout) or a
parameter ``log_alpha`` (variational dropout, section 3.3), one per layer,
per unit (an input unit for type A, an output unit for type B) or per weight
(type B only). ``kl_count()`` says how many weights share each alpha, so the
KL of ``tinyvae.objectives.DropoutKL`` sums to one term per weight.
"""

import numpy as np

from ..validation import check_bool, check_choice, check_dtype, check_float, check_int, check_rng
from .bayes_linear import backward_local_reparameterization, local_reparameterization
from .linear import INITS, init_weights
from .module import Module, unbroadcast

KINDS = ("A", "B")
GRANULARITIES = ("layer", "unit", "weight")
SAMPLINGS = ("local", "separate", "shared")


class GaussianDropoutLinear(Module):
    """A linear layer ``in -> out`` with Gaussian dropout of type ``kind``.

    ``forward(A, noise)``: noise of ``noise_shape(M)`` -- xi (M, in) for type
    A; for type B zeta (M, out), or eps (M, in, out) or (in, out) by
    ``sampling`` -- or None for the test-time network. The backward returns
    ``(dL/dA, None)`` and adds into ``grads`` dL/dtheta, dL/db and, when
    alpha is learned, dL/dlog_alpha.
    """

    def __init__(
        self,
        in_features,
        out_features,
        kind="B",
        alpha=0.5,
        learn_alpha=False,
        granularity="layer",
        sampling="local",
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        self.kind = check_choice(kind, "kind", KINDS)
        alpha = check_float(alpha, "alpha", 0, low_open=True)
        self.learn_alpha = check_bool(learn_alpha, "learn_alpha")
        self.granularity = check_choice(granularity, "granularity", GRANULARITIES)
        self.sampling = check_choice(sampling, "sampling", SAMPLINGS)
        if kind == "A" and sampling != "local":
            raise ValueError(
                "sampling: type A's noise is on the inputs, already one per example; "
                "'separate' and 'shared' weight samples are for type B"
            )
        if kind == "A" and granularity == "weight":
            raise ValueError(
                "granularity: 'weight' needs independent weight noise (kind 'B'); type A's "
                "noise is per input unit, so its rate is per 'layer' or per 'unit'"
            )
        check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng() if rng is None else check_rng(rng, "GaussianDropoutLinear")
        theta, b = init_weights(init, self.in_features, self.out_features, rng, self.dtype)
        self.add_param("theta", theta)
        self.add_param("b", b)
        log_alpha = np.full(self.alpha_shape(), np.log(alpha), dtype=self.dtype)
        if self.learn_alpha:
            self.add_param("log_alpha", log_alpha)
        else:
            self.fixed_log_alpha = log_alpha

    def __repr__(self):
        rate = f"learned per {self.granularity}" if self.learn_alpha else "fixed"
        return f"GaussianDropoutLinear({self.in_features}, {self.out_features}, " + (
            f"type {self.kind}, alpha {rate})"
        )

    def alpha_shape(self):
        """The shape of log alpha, broadcastable against the noise's variances."""
        if self.granularity == "layer":
            return (1, 1)
        if self.granularity == "weight":
            return (self.in_features, self.out_features)
        return (1, self.in_features) if self.kind == "A" else (1, self.out_features)

    def log_alpha(self):
        return self.params["log_alpha"] if self.learn_alpha else self.fixed_log_alpha

    def kl_count(self):
        """How many weights share each entry of log alpha (its KL counts that often)."""
        return self.in_features * self.out_features // int(np.prod(self.alpha_shape()))

    def noise_shape(self, batch):
        if self.kind == "A":
            return (batch, self.in_features)
        return {
            "local": (batch, self.out_features),
            "separate": (batch, self.in_features, self.out_features),
            "shared": (self.in_features, self.out_features),
        }[self.sampling]

    def forward(self, A, noise=None):
        if noise is None:  # the test-time network: the noise at its mean, 0
            noise = np.zeros(self.noise_shape(len(A)), dtype=A.dtype)
        theta, b = self.params["theta"], self.params["b"]
        alpha = np.exp(self.log_alpha())
        if self.kind == "A":
            scale = np.sqrt(alpha) * noise  # (M, in): the noise minus its mean of 1
            self.save("A", A, noise, scale, alpha)
            return (A * (1.0 + scale)) @ theta + b
        if self.sampling != "local":
            # weight samples W = theta (1 + sqrt(alpha) eps): one per example, or one in all
            W = theta * (1.0 + np.sqrt(alpha) * noise)
            self.save(self.sampling, A, noise, W, alpha)
            if self.sampling == "separate":
                return np.einsum("mi,mio->mo", A, W) + b
            return A @ W + b
        var = alpha * theta * theta  # sigma^2 = alpha theta^2 per weight
        out, std = local_reparameterization(A, theta, var, noise)
        self.save("local", A, noise, (std, var), alpha)
        return out + b

    def backward(self, dB):
        kind, A, noise, saved, alpha = self.take()
        theta = self.params["theta"]
        self.grads["b"] += dB.sum(axis=0)
        if kind == "A":
            scale = saved
            A_noisy = A * (1.0 + scale)
            self.grads["theta"] += A_noisy.T @ dB  # B = A_noisy theta + b
            dA_noisy = dB @ theta.T
            if self.learn_alpha:
                # d scale / d log alpha = scale / 2; A_noisy depends on it through A * scale
                dlog_alpha = 0.5 * dA_noisy * A * scale
                self.grads["log_alpha"] += unbroadcast(dlog_alpha, self.alpha_shape())
            return dA_noisy * (1.0 + scale), None
        if kind in ("separate", "shared"):
            W = saved
            if kind == "separate":  # dL/dW_m = A_m^T dB_m, an outer product per example
                dW = np.einsum("mi,mo->mio", A, dB)
                dA = np.einsum("mo,mio->mi", dB, W)
            else:  # one W for every row: dL/dW = A^T dB
                dW, dA = A.T @ dB, dB @ W.T
            # W = theta (1 + sqrt(alpha) eps):  dW/dtheta = 1 + sqrt(alpha) eps,
            # dW/dlog alpha = theta sqrt(alpha) eps / 2; both summed over the examples
            root_eps = np.sqrt(alpha) * noise
            self.grads["theta"] += unbroadcast(dW * (1.0 + root_eps), theta.shape)
            if self.learn_alpha:
                dlog_alpha = unbroadcast(dW * theta * root_eps * 0.5, theta.shape)
                self.grads["log_alpha"] += unbroadcast(dlog_alpha, self.alpha_shape())
            return dA, None
        std, var = saved
        dA, dtheta, dvar = backward_local_reparameterization(dB, A, theta, var, noise, std)
        # var = alpha theta^2: d var / d theta = 2 alpha theta, d var / d log alpha = var
        self.grads["theta"] += dtheta + dvar * 2.0 * alpha * theta
        if self.learn_alpha:
            self.grads["log_alpha"] += unbroadcast(dvar * var, self.alpha_shape())
        return dA, None
