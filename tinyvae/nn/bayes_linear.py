"""A linear layer with Gaussian weights, sampled three ways (Kingma, Salimans & Welling 2015).

The weights have a fully factorized posterior q(w_ij) = N(theta_ij, sigma_ij^2),
sigma^2 = exp(logvar) (the bias stays a point estimate). For a minibatch A
(M, in) the pre-activations B = A W can be sampled in three ways, each a
reparameterization with its own noise and its own cost:

    "local"     the local reparameterization trick (section 2.3): B itself is
                Gaussian, b_mj ~ N(gamma_mj, delta_mj) with
                gamma = A theta,  delta = (A * A) sigma^2,
                so  b = gamma + sqrt(delta) * zeta,  zeta (M, out) ~ N(0, 1);
    "separate"  a weight sample per example, W_m = theta + sigma * eps_m,
                eps (M, in, out): the same distribution of B, M times the work;
    "shared"    one weight sample for the minibatch, W = theta + sigma * eps,
                eps (in, out): cheap, but the examples' noise is correlated.

The first two give each example independent noise, which is why they have
the lower gradient variance (section 2.2, Table 1); "local" is also cheap.
The noise is an input, so each mode is a deterministic function that a
gradient check can test; ``forward(A, noise)`` runs the layer's ``mode``.
"""

import numpy as np

from ..validation import check_choice, check_dtype, check_float, check_int, check_rng
from .linear import INITS, init_weights
from .module import Module

MODES = ("local", "separate", "shared")


def local_reparameterization(A, theta, var, zeta):
    """``(A theta + sqrt(delta) * zeta, sqrt(delta))`` with delta = (A * A) var (section 2.3).

    The pre-activations of weights N(theta, var), less the bias, sampled
    directly: gamma = A theta is their mean and delta their variance.
    """
    with np.errstate(over="ignore"):
        std = np.sqrt((A * A) @ var)  # sqrt(delta): the standard deviation of each b_mj
    if not np.isfinite(std).all():
        # Huge variances (a learned log alpha of +80) make the next layer's units huge too,
        # and (A * A) @ var overflows in float32 although sqrt(delta) does not. Then each
        # row of A is divided by its largest |entry| a_m first, and sqrt(delta) times a_m.
        a = np.max(np.abs(A), axis=-1, keepdims=True)
        a = np.where(a > 0, a, 1.0).astype(A.dtype)  # a row of zeros stays zeros
        std = a * np.sqrt((A / a) ** 2 @ var)
    return A @ theta + std * zeta, std


def backward_local_reparameterization(dB, A, theta, var, zeta, std):
    """``(dA, dtheta, dvar)`` of ``local_reparameterization`` for the upstream gradient dB."""
    # b = gamma + sqrt(delta) zeta:  d b / d delta = zeta / (2 sqrt(delta)),
    # zero where delta = 0 (a row of A that is all zeros has no noise)
    ddelta = np.divide(0.5 * dB * zeta, std, out=np.zeros_like(dB), where=std > 0)
    # gamma = A theta and delta = (A * A) var both depend on A
    dA = dB @ theta.T + 2.0 * A * (ddelta @ var.T)
    # theta enters the mean only; var the variance only: d delta / d var = (A * A)^T
    return dA, A.T @ dB, (A * A).T @ ddelta


class BayesianLinear(Module):
    """``B = A W + b`` with q(W) = N(theta, exp(logvar)), sampled by ``mode``.

    ``logvar`` starts at ``init_logvar`` for every weight. ``noise_shape(M)``
    says what noise ``forward`` expects for a batch of M rows. The backward
    returns ``(dL/dA, None)`` (the noise has no gradient) and adds dL/dtheta,
    dL/dlogvar and dL/db into ``grads``.
    """

    def __init__(
        self,
        in_features,
        out_features,
        mode="local",
        init_logvar=-8.0,
        init="glorot_uniform",
        rng=None,
        dtype=np.float32,
    ):
        super().__init__()
        self.in_features = check_int(in_features, "in_features")
        self.out_features = check_int(out_features, "out_features")
        self.mode = check_choice(mode, "mode", MODES)
        init_logvar = check_float(init_logvar, "init_logvar")
        check_choice(init, "init", INITS)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng() if rng is None else check_rng(rng, "BayesianLinear")
        theta, b = init_weights(init, self.in_features, self.out_features, rng, self.dtype)
        self.add_param("theta", theta)
        self.add_param("logvar", np.full_like(theta, init_logvar))
        self.add_param("b", b)

    def __repr__(self):
        return f"BayesianLinear({self.in_features}, {self.out_features}, mode={self.mode!r})"

    def noise_shape(self, batch):
        """The shape of the noise ``forward`` takes for ``batch`` rows, in this mode."""
        return {
            "local": (batch, self.out_features),
            "separate": (batch, self.in_features, self.out_features),
            "shared": (self.in_features, self.out_features),
        }[self.mode]

    def forward(self, A, noise):
        theta, b = self.params["theta"], self.params["b"]
        var = np.exp(self.params["logvar"])  # sigma^2
        if self.mode == "local":
            out, std = local_reparameterization(A, theta, var, noise)
            self.save("local", A, var, noise, std)
            return out + b
        sigma = np.sqrt(var)
        if self.mode == "separate":
            W = theta + sigma * noise  # (M, in, out): one weight matrix per example
            self.save("separate", A, sigma, noise, W)
            return np.einsum("mi,mio->mo", A, W) + b
        W = theta + sigma * noise  # (in, out): one weight matrix for the batch
        self.save("shared", A, sigma, noise, W)
        return A @ W + b

    def backward(self, dB):
        mode, A, *saved = self.take()
        self.grads["b"] += dB.sum(axis=0)
        if mode == "local":
            var, zeta, std = saved
            dA, dtheta, dvar = backward_local_reparameterization(
                dB, A, self.params["theta"], var, zeta, std
            )
            self.grads["theta"] += dtheta
            self.grads["logvar"] += dvar * var  # d sigma^2 / d logvar = sigma^2
            return dA, None
        # W = theta + sigma eps:  dW/dtheta = 1, so theta gets dL/dW summed: A^T dB
        self.grads["theta"] += A.T @ dB
        sigma, eps, W = saved
        if mode == "separate":
            # W_m = theta + sigma eps_m:  dL/dW_m = A_m^T dB_m (an outer product per example);
            # d W / d logvar = sigma eps / 2, summed over the examples
            self.grads["logvar"] += 0.5 * sigma * np.einsum("mi,mo,mio->io", A, dB, eps)
            return np.einsum("mo,mio->mi", dB, W), None
        # one W for every row: dL/dW = A^T dB, and d W / d logvar = sigma eps / 2
        self.grads["logvar"] += 0.5 * sigma * eps * (A.T @ dB)
        return dB @ W.T, None  # the noise is an input without a gradient
