"""Exercise 8: the backward pass of the KL divergence from q = N(mu, sigma^2) to N(0, I).

The regularizer of SGVB estimator B, in closed form (AEVB appendix B), with
sigma_j^2 = exp(logvar_j) and summed over the latent dimensions (the last axis):

    KL(N(mu, sigma^2) || N(0, I)) = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j))

mu and logvar are (B, J); KL is (B,), one number per example. Given dkl =
dL/dKL, of shape (B,), every entry of a row gets that row's dkl times the
local derivative:

    dL/dmu_j     = dkl * mu_j
    dL/dlogvar_j = dkl * 1/2 (exp(logvar_j) - 1)

Write ``StandardNormalKL.backward``, returning ``(dmu, dlogvar)``. Its
``forward`` keeps ``mu`` and ``var = exp(logvar)`` in the cache.
"""

import numpy as np

from ..distributions.kl import StandardNormalKL
from .exercise import Exercise, Mistake, module_trial


def trial(kl, rng):
    inputs = {"mu": rng.normal(size=(5, 3)), "logvar": rng.normal(scale=0.7, size=(5, 3))}
    return module_trial(kl(), inputs, rng=rng)


class _Mistake(StandardNormalKL):
    """A wrong backward: ``gradients(dkl, mu, var)`` gives (dmu, dlogvar)."""

    def backward(self, dkl):
        mu, var = self.take()
        return self.gradients(dkl, mu, var)


class _MissesTheHalf(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * (var - 1.0)


class _ForgetsTheMinusOne(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * var


class _DmuTwiceMu(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * 2.0 * mu, g * 0.5 * (var - 1.0)


class _DmuOfMinusKL(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return -g * mu, g * 0.5 * (var - 1.0)


class _DlogvarOfMinusKL(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (1.0 - var)


class _GradientWithRespectToVar(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (1.0 - 1.0 / var)  # d/dvar, logvar = log var: no chain rule


class _ExpOfVar(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (np.exp(var) - 1.0)


class _LogvarForVar(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (np.log(var) - 1.0)  # logvar where exp(logvar) belongs


class _ChainThroughExpTwice(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (var - 1.0) * var


class _SigmaForVar(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (np.sqrt(var) - 1.0)  # sigma where var belongs


class _VarSquared(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * 0.5 * (var * var - 1.0)  # var taken for sigma, and squared


class _VarSquaredWithoutTheHalf(_Mistake):
    def gradients(self, dkl, mu, var):
        g = dkl[..., None]
        return g * mu, g * (var * var - 1.0)


class _IgnoresDkl(_Mistake):
    def gradients(self, dkl, mu, var):
        return mu, 0.5 * (var - 1.0)


VAR_SQUARED = (
    "dlogvar squares var: the cached var is already the variance sigma^2 = exp(logvar), not "
    "sigma, and the KL's term is exp(logvar), whose derivative in logvar is exp(logvar) "
    "(hint 3 of 3 derives it)"
)


EXERCISE = Exercise(
    number=8,
    chapter="AEVB",
    slug="kl",
    title="KL(q || N(0, I)): dmu and dlogvar",
    target="StandardNormalKL",
    reference=StandardNormalKL,
    trial=trial,
    solution="tinyvae/distributions/kl.py, StandardNormalKL.backward",
    hints=[
        "The chain rule, one entry at a time: mu_j and logvar_j sit in one term of their "
        "row's sum, t = -1/2 (1 + logvar - mu^2 - exp(logvar)). Differentiate t in mu and in "
        "logvar (the derivative of exp matters: var, in the cache, is exp(logvar)), then "
        "multiply by the row's dkl, dkl[..., None], to get two (B, J) arrays.",
        "dt/dmu = -1/2 * (-2 mu) = mu, so dmu = dkl[..., None] * mu.",
        "dt/dlogvar = -1/2 (1 - exp(logvar)) = 1/2 (exp(logvar) - 1): the chain rule through "
        "exp gives exp(logvar) back. g = dkl[..., None]; return g * mu, g * 0.5 * (var - 1.0).",
    ],
    mistakes=[
        Mistake(
            "dlogvar misses the 1/2",
            _MissesTheHalf,
            "dlogvar is twice the right answer: it misses the factor 1/2 in front of the sum "
            "(hint 3 of 3 derives it)",
        ),
        Mistake(
            "dlogvar forgets the -1",
            _ForgetsTheMinusOne,
            "dlogvar misses a constant term, the derivative of the lone logvar_j inside the sum "
            "(hint 3 of 3 derives it)",
        ),
        Mistake(
            "dmu = 2 mu",
            _DmuTwiceMu,
            "dmu is twice the right answer: it misses the factor 1/2 in front of the sum "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "dmu of -KL",
            _DmuOfMinusKL,
            "dmu has the wrong sign: it is the gradient of -KL (the term of the bound), and "
            "this module returns KL (hint 2 of 3 derives it)",
        ),
        Mistake(
            "dlogvar of -KL",
            _DlogvarOfMinusKL,
            "dlogvar has the wrong sign: it is the gradient of -KL (the term of the bound), and "
            "this module returns KL (hint 3 of 3 derives it)",
        ),
        Mistake(
            "var taken for logvar",
            _ExpOfVar,
            "dlogvar takes exp of the cached var, which is already exp(logvar): the cache "
            "holds sigma^2, not logvar, so yours exponentiates twice (hint 3 of 3 derives it)",
        ),
        Mistake(
            "logvar taken for var",
            _LogvarForVar,
            "dlogvar uses logvar where var = exp(logvar) belongs: the derivative of exp is "
            "exp itself, not the identity, and the cache already holds var (hint 3 of 3 derives "
            "it)",
        ),
        Mistake(
            "chain rule through exp applied twice",
            _ChainThroughExpTwice,
            "dlogvar has an extra factor var: the chain rule through var = exp(logvar) is "
            "applied twice, the derivative in logvar already holds it once (hint 3 of 3 "
            "derives it)",
        ),
        Mistake(
            "dlogvar taken with respect to var",
            _GradientWithRespectToVar,
            "dlogvar is the gradient with respect to var = exp(logvar), not logvar: the KL "
            "written in var (logvar = log var) and differentiated there still has to be "
            "chained through var = exp(logvar), times d var / d logvar (hint 3 of 3 derives it)",
        ),
        Mistake(
            "sigma taken for var",
            _SigmaForVar,
            "dlogvar uses sigma = sqrt(var) where var = exp(logvar) belongs: the KL holds "
            "exp(logvar), the variance sigma^2, not the standard deviation, and the derivative "
            "of exp is exp itself (hint 3 of 3 derives it)",
        ),
        Mistake("var squared", _VarSquared, VAR_SQUARED),
        Mistake("var squared, without the 1/2", _VarSquaredWithoutTheHalf, VAR_SQUARED),
        Mistake(
            "ignores dkl",
            _IgnoresDkl,
            "it ignores dkl: multiply the local derivative by the upstream gradient, "
            "dkl[..., None], one value per row (the chain rule)",
        ),
    ],
)
