"""Exercise 6: the backward pass of the diagonal Gaussian log-density.

With sigma_j^2 = exp(logvar_j), summed over the last axis (AEVB appendix B
writes out these terms; appendix C.2 uses this density as the decoder of
continuous data),

    log N(x; mu, sigma^2) = -1/2 sum_j [ log 2 pi + logvar_j + (x_j - mu_j)^2 exp(-logvar_j) ]

x, mu and logvar are (B, D); the output log p is (B,), one number per row.
Given dlogp = dL/dlog p, of shape (B,), each entry of a row gets that row's
dlogp, times the local derivative:

    dL/dx_j      = dlogp * -(x_j - mu_j) / sigma_j^2
    dL/dmu_j     = dlogp *  (x_j - mu_j) / sigma_j^2
    dL/dlogvar_j = dlogp * 1/2 [ (x_j - mu_j)^2 / sigma_j^2 - 1 ]

(the -1 is the derivative of the logvar_j term itself; the first term comes
from d/dlogvar exp(-logvar) = -exp(-logvar)). Write
``GaussianLogDensity.backward``, returning ``(dx, dmu, dlogvar)``. Its
``forward`` keeps the standardized residual ``r = (x - mu) / sigma`` and
``inv_sigma = exp(-logvar / 2)``: (x - mu) / sigma^2 = r inv_sigma and
(x - mu)^2 / sigma^2 = r^2, with no square that can overflow.
"""

import numpy as np

from ..distributions.gaussian import GaussianLogDensity
from .exercise import Exercise, Mistake, module_trial


def trial(density, rng):
    # square (B = D = 4), so that dlogp applied along the wrong axis broadcasts without
    # an error and its values show
    shape = (4, 4)
    inputs = {
        "x": rng.normal(size=shape),
        "mu": rng.normal(size=shape),
        "logvar": rng.normal(scale=0.7, size=shape),
    }
    # one very wide entry, sigma = exp(400): x - mu = 1.3 sigma is a float64, but its square
    # and sigma^2 overflow, so (x - mu)^2 / sigma^2 is inf / inf; r = 1.3 is what the task keeps
    inputs["logvar"][1, 2] = 800.0
    inputs["x"][1, 2] = inputs["mu"][1, 2] + 1.3 * np.exp(400.0)
    return module_trial(density(), inputs, rng=rng)


class _Mistake(GaussianLogDensity):
    """A wrong backward: ``gradients(g, r, inv_sigma)`` gives (dx, dmu, dlogvar). Written,
    like the reference, from r and 1 / sigma: (x - mu)^2 / sigma^2 would overflow at the
    trial's wide entry, and every mistake would look like an overflow there."""

    def backward(self, dlogp):
        r, inv_sigma, *_ = self.take()  # r = (x - mu) / sigma, inv_sigma = 1 / sigma
        return self.gradients(dlogp, r, inv_sigma)


class _MissesTheHalf(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma
        return -dmu, dmu, g * (r * r - 1.0)


class _DmuSignFlipped(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dx = -g * r * inv_sigma
        return dx, dx, g * 0.5 * (r * r - 1.0)


class _ForgetsTheMinusOne(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma
        return -dmu, dmu, g * 0.5 * r * r


class _SigmaForVariance(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r  # (x - mu) / sigma: divided by sigma where sigma^2 belongs
        return -dmu, dmu, g * 0.5 * (r * r / inv_sigma - 1.0)


class _SigmaForInverseSigma(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r / inv_sigma  # r * sigma = x - mu: multiplied by sigma where 1 / sigma belongs
        return -dmu, dmu, g * 0.5 * (r * r - 1.0)


class _ExpDerivativeSignLost(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma
        return -dmu, dmu, g * 0.5 * (-r * r - 1.0)


class _SigmaCubed(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma * inv_sigma  # r inv_sigma^2: one 1/sigma too many
        return -dmu, dmu, g * 0.5 * (r * r - 1.0)


class _GradientWithRespectToSigma(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma
        # logvar's term written as 2 log sigma and differentiated in sigma: d/dsigma, not d/dlogvar
        return -dmu, dmu, g * (r * r - 1.0) * inv_sigma


class _GradientWithRespectToVariance(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma
        # the density written in var = sigma^2 and differentiated in var, not in logvar
        return -dmu, dmu, g * 0.5 * (r * r - 1.0) * inv_sigma * inv_sigma


class _DlogpAlongTheWrongAxis(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp  # (B,) against (B, D): numpy lines it up with the last axis, D
        dmu = g * r * inv_sigma
        return -dmu, dmu, g * 0.5 * (r * r - 1.0)


class _IgnoresDlogp(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        dmu = r * inv_sigma
        return -dmu, dmu, 0.5 * (r * r - 1.0)


class _RestandardizedR(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        dmu = g * r * inv_sigma
        # r^2, already standardized, divided by sigma^2 again
        return -dmu, dmu, g * 0.5 * (r * r * inv_sigma * inv_sigma - 1.0)


class _ResidualRebuilt(_Mistake):
    def gradients(self, dlogp, r, inv_sigma):
        g = dlogp[..., None]
        with np.errstate(all="ignore"):
            diff, var = r / inv_sigma, 1.0 / inv_sigma**2  # x - mu and sigma^2: both overflow
            dmu = g * diff / var
            return -dmu, dmu, g * 0.5 * (diff * diff / var - 1.0)


EXERCISE = Exercise(
    number=6,
    chapter="AEVB",
    slug="gaussian",
    title="Gaussian log-density: dx, dmu and dlogvar",
    target="GaussianLogDensity",
    reference=GaussianLogDensity,
    trial=trial,
    solution="tinyvae/distributions/gaussian.py, GaussianLogDensity.backward",
    hints=[
        "Differentiate one term of the sum, f = -1/2 [log 2 pi + logvar + (x - mu)^2 "
        "exp(-logvar)], with respect to x, mu and logvar in turn (the chain rule through "
        "x - mu and through exp(-logvar)); then multiply by the row's dlogp: dlogp[..., None], "
        "(B, 1), broadcasts along each row.",
        "df/dmu = -1/2 * 2 (x - mu) * (-1) * exp(-logvar) = (x - mu) / sigma^2, and df/dx "
        "is its negative (d(x - mu)/dx = +1). From what forward kept, (x - mu) / sigma^2 "
        "= r * inv_sigma.",
        "df/dlogvar = -1/2 [1 - (x - mu)^2 exp(-logvar)] = 1/2 (r^2 - 1). In code: "
        "g = dlogp[..., None]; dmu = g * (r * inv_sigma); dx = -dmu; "
        "dlogvar = g * 0.5 * (r * r - 1); return dx, dmu, dlogvar.",
    ],
    mistakes=[
        Mistake(
            "x - mu and sigma^2 rebuilt from r",
            _ResidualRebuilt,
            "it overflows where sigma is huge (logvar = 800): x - mu and sigma^2 rebuilt from "
            "r and 1 / sigma square to inf / inf; write the gradients from r and 1 / sigma "
            "themselves, as the task says, never forming (x - mu)^2 or sigma^2",
        ),
        Mistake(
            "dlogvar misses the 1/2",
            _MissesTheHalf,
            "dlogvar is twice the right answer: it misses the factor 1/2 in front of the sum "
            "(hint 3 of 3 derives it)",
        ),
        Mistake(
            "dmu with the sign of dx",
            _DmuSignFlipped,
            "dmu has the wrong sign: mu enters through x - mu, whose derivative in mu is -1, not "
            "+1 as for x (hint 2 of 3 derives it)",
        ),
        Mistake(
            "dlogvar forgets the -1",
            _ForgetsTheMinusOne,
            "dlogvar misses a constant term, the derivative of the lone logvar_j inside the sum "
            "(hint 3 of 3 derives it)",
        ),
        Mistake(
            "sigma for sigma^2",
            _SigmaForVariance,
            "dx, dmu and dlogvar divide by sigma = exp(logvar / 2) where sigma^2 = exp(logvar) "
            "belongs (hint 2 of 3 writes it from r and inv_sigma)",
        ),
        Mistake(
            "r times sigma for r times 1/sigma",
            _SigmaForInverseSigma,
            "dx and dmu multiply r by sigma where inv_sigma = 1/sigma belongs: r * sigma is "
            "x - mu itself, with no division by sigma^2 left (hint 2 of 3 writes it from r and "
            "inv_sigma)",
        ),
        Mistake(
            "the sign of exp(-logvar)'s derivative lost",
            _ExpDerivativeSignLost,
            "dlogvar has its r^2 term with the wrong sign: the chain rule through exp(-logvar) "
            "brings out the derivative of -logvar, a minus sign (hint 3 of 3 derives it)",
        ),
        Mistake(
            "r times 1/sigma^2",
            _SigmaCubed,
            "dx and dmu divide by sigma^3: r = (x - mu) / sigma already holds one 1/sigma, so "
            "r times inv_sigma squared has one too many (hint 2 of 3 writes it from r and "
            "inv_sigma)",
        ),
        Mistake(
            "dlogvar taken with respect to sigma",
            _GradientWithRespectToSigma,
            "dlogvar is the gradient with respect to sigma, not logvar: the density written in "
            "sigma and differentiated there still has to be chained through "
            "sigma = exp(logvar / 2), times d sigma / d logvar (hint 3 of 3 derives it in logvar)",
        ),
        Mistake(
            "dlogvar taken with respect to var",
            _GradientWithRespectToVariance,
            "dlogvar is the gradient with respect to the variance sigma^2, not logvar: the "
            "density written in var and differentiated there still has to be chained through "
            "var = exp(logvar), times d var / d logvar (hint 3 of 3 derives it in logvar)",
        ),
        Mistake(
            "dlogp along the wrong axis",
            _DlogpAlongTheWrongAxis,
            "dlogp multiplies the columns, not the rows: it has one value per row (shape (B,)), "
            "so use dlogp[..., None], shape (B, 1), which broadcasts along each row",
        ),
        Mistake(
            "ignores dlogp",
            _IgnoresDlogp,
            "it ignores dlogp: multiply the local derivative by the upstream gradient, "
            "dlogp[..., None] (the chain rule)",
        ),
        Mistake(
            "r^2 divided by sigma^2 again",
            _RestandardizedR,
            "dlogvar divides r^2 by sigma^2 once more: r = (x - mu) / sigma is already "
            "standardized, so (x - mu)^2 exp(-logvar) is r^2 itself, with no sigma left to "
            "divide by (hint 3 of 3 derives it)",
        ),
    ],
)
