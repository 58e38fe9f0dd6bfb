"""Exercise 17: the backward pass of a Bayesian linear layer sampled by local reparameterization.

A Bayesian linear layer keeps a Gaussian over each weight,
q(w_ij) = N(theta_ij, sigma_ij^2) with sigma^2 = exp(logvar) (the bias b is a
point estimate). Rather than sample a weight matrix, the local
reparameterization trick (Kingma, Salimans & Welling 2015, "Variational
Dropout and the Local Reparameterization Trick", section 2.3) samples the
pre-activations, which are Gaussian too: for a minibatch A (M, in),

    gamma = A theta                      the mean of B           (M, out)
    delta = (A * A) sigma^2              its variance            (M, out)
    B     = gamma + sqrt(delta) * zeta + b,    zeta (M, out) ~ N(0, 1).

Given dB = dL/dB, write ``BayesianLinear.backward`` for ``mode="local"``:

    db      = sum over the batch of dB
    dtheta  = A^T dB                                  (theta enters only gamma)
    ddelta  = dB * zeta / (2 sqrt(delta)),  0 where delta = 0
    dlogvar = ((A * A)^T ddelta) * sigma^2            (d sigma^2 / d logvar = sigma^2)
    dA      = dB theta^T + 2 A * (ddelta (sigma^2)^T)   (A enters gamma and delta)

A row of A that is all zeros has delta = 0: it carries no noise, and its
ddelta is 0 (dividing by sqrt(delta) there gives inf, then NaN). Add the
parameter gradients into ``self.grads["theta"]``, ``self.grads["logvar"]``
and ``self.grads["b"]`` (+=); return ``(dA, None)``: zeta is noise, it has no
gradient. ``forward`` keeps ("local", A, sigma^2, zeta, sqrt(delta)).
"""

import numpy as np

from ..nn.bayes_linear import BayesianLinear
from .exercise import Exercise, Mistake, module_trial


def trial(bayesian_linear, rng):
    # M = 5, in = 4, out = 3: no two sizes alike, so a transpose or a sum over the wrong
    # axis shows in the shape
    M, n_in, n_out = 5, 4, 3
    layer = bayesian_linear(n_in, n_out, mode="local", rng=rng, dtype=np.float64)
    # sigma^2 around exp(-1), different for every weight, so that the variance path is
    # not negligible and a factor sigma or sigma^2 left out shows in every entry
    layer.params["logvar"][...] = -1.0 + 0.5 * rng.standard_normal((n_in, n_out))
    layer.params["b"][...] = rng.standard_normal(n_out)
    A = rng.standard_normal((M, n_in))
    A[2] = 0.0  # an input row of zeros: delta = 0 there, that row has no noise
    zeta = rng.standard_normal((M, n_out))
    return module_trial(layer, {"A": A, "zeta": zeta}, constant=("zeta",), rng=rng)


class _Mistake(BayesianLinear):
    """The right backward, in pieces that each wrong one below replaces."""

    def backward(self, dB):
        _, A, var, zeta, std = self.take()
        theta = self.params["theta"]
        ddelta = self.ddelta(dB, zeta, std)
        self.grads["b"] += dB.sum(axis=0)
        self.grads["theta"] += self.dtheta(A, dB, ddelta)
        self.grads["logvar"] += self.dlogvar(A, ddelta, var)
        return self.dA(dB, theta, A, ddelta, var), None

    def ddelta(self, dB, zeta, std):
        return np.divide(0.5 * dB * zeta, std, out=np.zeros_like(dB), where=std > 0)

    def dtheta(self, A, dB, ddelta):
        return A.T @ dB

    def dlogvar(self, A, ddelta, var):
        return ((A * A).T @ ddelta) * var

    def dA(self, dB, theta, A, ddelta, var):
        return dB @ theta.T + 2.0 * A * (ddelta @ var.T)


class _Unguarded(_Mistake):
    def backward(self, dB):
        with np.errstate(divide="ignore", invalid="ignore"):  # the catalogue stays quiet
            return super().backward(dB)

    def ddelta(self, dB, zeta, std):
        return 0.5 * dB * zeta / std


class _NoChainThroughExp(_Mistake):
    def dlogvar(self, A, ddelta, var):
        return (A * A).T @ ddelta


class _SigmaInChain(_Mistake):
    def dlogvar(self, A, ddelta, var):
        return ((A * A).T @ ddelta) * np.sqrt(var)


class _AInDlogvar(_Mistake):
    def dlogvar(self, A, ddelta, var):
        return (A.T @ ddelta) * var


class _MissingHalf(_Mistake):
    def ddelta(self, dB, zeta, std):
        return np.divide(dB * zeta, std, out=np.zeros_like(dB), where=std > 0)


class _NoZeta(_Mistake):
    def ddelta(self, dB, zeta, std):
        return np.divide(0.5 * dB, std, out=np.zeros_like(dB), where=std > 0)


class _NoisePathInDtheta(_Mistake):
    def dtheta(self, A, dB, ddelta):
        return A.T @ dB + (A * A).T @ ddelta


class _TransposedDthetaReshaped(_Mistake):
    def dtheta(self, A, dB, ddelta):
        return (dB.T @ A).reshape(self.params["theta"].shape)  # (out, in) made (in, out)


class _NoVariancePathInDA(_Mistake):
    def dA(self, dB, theta, A, ddelta, var):
        return dB @ theta.T


class _NoMeanPathInDA(_Mistake):
    def dA(self, dB, theta, A, ddelta, var):
        return 2.0 * A * (ddelta @ var.T)


class _VariancePathWithoutTwo(_Mistake):
    def dA(self, dB, theta, A, ddelta, var):
        return dB @ theta.T + A * (ddelta @ var.T)


class _SigmaInDA(_Mistake):
    def dA(self, dB, theta, A, ddelta, var):
        return dB @ theta.T + 2.0 * A * (ddelta @ np.sqrt(var).T)


class _SqrtSplitOverTheSum(BayesianLinear):
    """std = sqrt((A * A) sigma^2) taken for |A| sigma, a linear layer: the square root of a
    sum split into a sum of square roots."""

    def backward(self, dB):
        _, A, var, zeta, _ = self.take()
        sigma = np.sqrt(var)
        dstd = dB * zeta
        self.grads["b"] += dB.sum(axis=0)
        self.grads["theta"] += A.T @ dB
        self.grads["logvar"] += (np.abs(A).T @ dstd) * 0.5 * sigma
        return dB @ self.params["theta"].T + np.sign(A) * (dstd @ sigma.T), None


class _Overwrites(BayesianLinear):
    def backward(self, dB):
        _, A, var, zeta, std = self.take()
        ddelta = np.divide(0.5 * dB * zeta, std, out=np.zeros_like(dB), where=std > 0)
        self.grads["b"][...] = dB.sum(axis=0)
        self.grads["theta"][...] = A.T @ dB
        self.grads["logvar"][...] = ((A * A).T @ ddelta) * var
        return dB @ self.params["theta"].T + 2.0 * A * (ddelta @ var.T), None


EXERCISE = Exercise(
    number=17,
    chapter="ch. 6",
    slug="local_reparameterization",
    title="Bayesian linear layer: the local reparameterization trick's backward",
    target="BayesianLinear",
    reference=BayesianLinear,
    trial=trial,
    solution=(
        "tinyvae/nn/bayes_linear.py, backward_local_reparameterization "
        "(which BayesianLinear.backward calls in mode 'local')"
    ),
    hints=[
        "Walk the forward pass backwards: B = gamma + std * zeta + b, std = sqrt(delta), "
        "delta = (A * A) var, gamma = A theta, var = exp(logvar). db and dtheta come from the "
        "mean path alone, as in a plain linear layer. Then find ddelta = dL/d delta (M, out): "
        "everything about logvar and the noise goes through it. A takes both paths, through "
        "gamma and through delta; dA is their sum.",
        "d sqrt(delta) / d delta = 1 / (2 sqrt(delta)), so ddelta = dB * zeta / (2 std), set "
        "to 0 where std = 0: np.divide(0.5 * dB * zeta, std, out=np.zeros_like(dB), "
        "where=std > 0).",
        "delta = (A * A) var is a linear layer with input A * A and weights var: var gets "
        "(A * A)^T ddelta, and var = exp(logvar) has derivative var, so dlogvar = "
        "((A * A)^T ddelta) * var. A * A gets ddelta var^T, and d(A * A)/dA = 2A, so the "
        "variance path of dA is 2 A * (ddelta var^T); the mean path is dB theta^T.",
        "ddelta = np.divide(0.5 * dB * zeta, std, out=np.zeros_like(dB), where=std > 0); "
        "grads['b'] += dB.sum(axis=0); grads['theta'] += A.T @ dB; "
        "grads['logvar'] += ((A * A).T @ ddelta) * var; "
        "return dB @ theta.T + 2 * A * (ddelta @ var.T), None.",
    ],
    mistakes=[
        Mistake(
            "divides by a zero std",
            _Unguarded,
            "dA and dlogvar are NaN from the row of A that is all zeros: there "
            "std = sqrt((A * A) sigma^2) = 0 and dividing by it gives inf (and 0 * inf = NaN); "
            "that row has no noise, so its ddelta must be 0, with no division (hint 2 of 4 "
            "shows how)",
        ),
        Mistake(
            "no chain rule through exp",
            _NoChainThroughExp,
            "dlogvar is the gradient with respect to sigma^2, not logvar: the chain rule through "
            "sigma^2 = exp(logvar) is missing (hint 3 of 4 derives it)",
        ),
        Mistake(
            "sigma for sigma^2 in the chain",
            _SigmaInChain,
            "dlogvar multiplies by sigma = exp(logvar / 2) where the chain rule through "
            "sigma^2 = exp(logvar) gives sigma^2 (hint 3 of 4 derives it)",
        ),
        Mistake(
            "A for A * A in dlogvar",
            _AInDlogvar,
            "dlogvar uses A where A * A belongs: the variances sigma^2 multiply A * A in "
            "delta = (A * A) sigma^2 (hint 3 of 4 derives it)",
        ),
        Mistake(
            "missing the 1/2 of the square root",
            _MissingHalf,
            "ddelta misses the factor 1/2 of the square root's derivative, and it reaches dlogvar "
            "and the variance path of dA (hint 2 of 4 derives it)",
        ),
        Mistake(
            "ddelta without zeta",
            _NoZeta,
            "ddelta misses the factor zeta: B = gamma + std * zeta + b, so the noise multiplies "
            "std (hint 2 of 4 derives it)",
        ),
        Mistake(
            "noise path in dtheta",
            _NoisePathInDtheta,
            "dtheta has the variance path added: theta enters only the mean gamma = A theta, and "
            "delta = (A * A) sigma^2 does not depend on it (hint 1 of 4 says so)",
        ),
        Mistake(
            "transposed dtheta reshaped",
            _TransposedDthetaReshaped,
            "dtheta is the transpose of the right answer, an (out, in) product reshaped to "
            "theta's (in, out): reshape regroups the entries in their order, it does not "
            "transpose them; the right product comes out (in, out) with no reshape (hint 1 of 4: "
            "theta's path is a plain linear layer, whose dW exercise 2 derives)",
        ),
        Mistake(
            "no variance path in dA",
            _NoVariancePathInDA,
            "dA misses the variance path: A enters delta = (A * A) sigma^2 as well as "
            "gamma = A theta (hint 3 of 4 derives it)",
        ),
        Mistake(
            "no mean path in dA",
            _NoMeanPathInDA,
            "dA misses the mean path: A enters gamma = A theta as well as "
            "delta = (A * A) sigma^2, and the two paths add (hint 3 of 4 derives it)",
        ),
        Mistake(
            "variance path of dA without the 2",
            _VariancePathWithoutTwo,
            "dA's variance path misses the factor 2 from "
            "differentiating A * A (hint 3 of 4 derives it)",
        ),
        Mistake(
            "sigma for sigma^2 in dA",
            _SigmaInDA,
            "dA's variance path uses sigma where sigma^2 = var belongs, the variances in "
            "delta = (A * A) sigma^2 (hint 3 of 4 derives it)",
        ),
        Mistake(
            "sqrt of a sum split into a sum of sqrts",
            _SqrtSplitOverTheSum,
            "dA and dlogvar take std = sqrt((A * A) sigma^2) for |A| sigma, as if the square "
            "root of a sum over the inputs were the sum of their square roots: it is not, so "
            "differentiate through delta, then its square root (hint 2 of 4 and hint 3 of 4 derive "
            "it)",
        ),
        Mistake(
            "= for +=",
            _Overwrites,
            "you overwrote grads instead of adding to them: use +=, gradients accumulate",
        ),
    ],
)
