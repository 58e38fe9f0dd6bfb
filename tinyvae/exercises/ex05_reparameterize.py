"""Exercise 5: the backward pass of the reparameterization trick.

To sample z ~ q(z|x) = N(mu, sigma^2) so that gradients reach the encoder,
AEVB writes the sample as a deterministic function of the parameters and of
noise that does not depend on them (Kingma & Welling 2013, eq. (4) and the
Gaussian example of section 2.4):

    z = mu + sigma * eps,   sigma = exp(logvar / 2),   eps ~ N(0, I).

Given dz = dL/dz, elementwise,

    dL/dmu     = dz                                (dz/dmu = 1)
    dL/dlogvar = dz * eps * dsigma/dlogvar = dz * eps * sigma / 2 = 1/2 dz (z - mu)

since d exp(logvar / 2) / dlogvar = exp(logvar / 2) / 2. eps is noise, not
something to learn: its gradient is ``None``. Write
``Reparameterize.backward``, returning ``(dmu, dlogvar, None)``; its
``forward`` keeps sigma and eps (and the shapes of mu and logvar) in the
cache. Here eps has the shape of mu, one sample per example (tinyvae's own
version also sums the gradients of L samples per example).
"""

from ..distributions.reparameterize import Reparameterize
from ..nn.module import unbroadcast
from .exercise import Exercise, Mistake, module_trial, with_samples


def trial(reparameterize, rng):
    shape = (5, 3)
    inputs = {
        "mu": rng.normal(size=shape),
        "logvar": rng.normal(scale=0.8, size=shape),
        "eps": rng.standard_normal(shape),
    }
    out = module_trial(reparameterize(), inputs, constant=("eps",), rng=rng)
    named = {"z": out["y"], "dmu": out["dmu"], "dlogvar": out["dlogvar"]}
    # L = 2 samples per example, as a VAE draws them (the capstone's model does): eps and
    # z are (L, B, J), mu and logvar (B, J)
    inputs["eps"] = rng.standard_normal((2, *shape))
    out = with_samples(
        lambda: module_trial(reparameterize(), inputs, constant=("eps",), rng=rng),
        "eps and dz (L, B, J), mu and logvar (B, J)",
    )
    named.update({"z, L samples": out["y"], "dmu, L samples": out["dmu"]})
    named["dlogvar, L samples"] = out["dlogvar"]
    return named


class _Mistake(Reparameterize):
    """A wrong backward: ``gradients(dz, sigma, eps)`` gives (dmu, dlogvar)."""

    def backward(self, dz):
        sigma, eps, mu_shape, logvar_shape = self.take()
        dmu, dlogvar = self.gradients(dz, sigma, eps)
        # summed over the samples like the reference: each mistake has its one error only
        return unbroadcast(dmu, mu_shape), unbroadcast(dlogvar, logvar_shape), None


class _MissesTheHalf(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz, dz * eps * sigma


class _VarianceForSigma(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz, dz * eps * 0.5 * sigma**2


class _GradientOfSigma(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz, dz * eps


class _MissesSigma(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz, 0.5 * dz * eps


class _MissesEps(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz, 0.5 * dz * sigma


class _DmuTimesSigma(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz * sigma, 0.5 * dz * eps * sigma


class _DmuTimesEps(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz * eps, 0.5 * dz * eps * sigma


class _ProductOfSampleSums(Reparameterize):
    def backward(self, dz):
        sigma, eps, mu_shape, logvar_shape = self.take()
        samples = tuple(range(dz.ndim - len(mu_shape)))  # the leading samples axis, if any
        dlogvar = 0.5 * sigma * dz.sum(axis=samples) * eps.sum(axis=samples)
        return dz.sum(axis=samples), dlogvar, None


class _IgnoresDz(_Mistake):
    def gradients(self, dz, sigma, eps):
        return dz, 0.5 * eps * sigma


EXERCISE = Exercise(
    number=5,
    chapter="AEVB",
    slug="reparameterize",
    title="reparameterization: dmu and dlogvar of z = mu + sigma eps",
    target="Reparameterize",
    reference=Reparameterize,
    trial=trial,
    solution="tinyvae/distributions/reparameterize.py, Reparameterize.backward",
    hints=[
        "z = mu + sigma * eps is elementwise, so each gradient is dz times a local "
        "derivative (the chain rule), (B, J) like dz. mu enters z plainly; logvar enters "
        "only through sigma = exp(logvar / 2): chain through sigma, then through exp.",
        "dz/dmu = 1, so dL/dmu is dz itself. For logvar: dz/dsigma = eps, times "
        "dsigma/dlogvar, the derivative of exp(logvar / 2).",
        "d exp(logvar / 2)/dlogvar = exp(logvar / 2) * 1/2 = sigma / 2, so "
        "dmu = dz; dlogvar = dz * eps * 0.5 * sigma. With L samples (dz of shape (L, B, J)) "
        "every sample's path reaches the same mu and logvar: add them up, "
        "dmu = dz.sum(axis=0) and likewise dlogvar (tv.nn.unbroadcast(g, mu_shape) does "
        "either case). return dmu, dlogvar, None.",
    ],
    mistakes=[
        Mistake(
            "the product of the sums over the samples",
            _ProductOfSampleSums,
            "dlogvar with L samples multiplies dz summed over the samples by eps summed over "
            "the samples; each sample's path has its own dz and eps, so multiply them sample "
            "by sample and then sum the products (hint 3 of 3)",
        ),
        Mistake(
            "misses the 1/2",
            _MissesTheHalf,
            "dlogvar is twice the right answer: it misses the factor 1/2 that the chain rule "
            "brings out of sigma = exp(logvar / 2) (hint 3 of 3 derives it)",
        ),
        Mistake(
            "exp(logvar) for sigma",
            _VarianceForSigma,
            "dlogvar uses sigma^2 = exp(logvar) where sigma = exp(logvar / 2), the one forward "
            "cached, belongs (hint 3 of 3 derives it)",
        ),
        Mistake(
            "stops at dL/dsigma",
            _GradientOfSigma,
            "dlogvar is dz * eps, the gradient with respect to sigma, not logvar: the chain rule "
            "through sigma = exp(logvar / 2) is missing (hint 3 of 3 derives it)",
        ),
        Mistake(
            "misses sigma",
            _MissesSigma,
            "dlogvar misses the factor sigma that the chain rule through the exp of "
            "sigma = exp(logvar / 2) brings (hint 3 of 3 derives it)",
        ),
        Mistake(
            "misses eps",
            _MissesEps,
            "dlogvar misses the factor eps, which multiplies sigma in z = mu + sigma * eps "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "dmu times sigma",
            _DmuTimesSigma,
            "dmu is dz * sigma, but sigma does not multiply mu in z = mu + sigma * eps "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "dmu times eps",
            _DmuTimesEps,
            "dmu is dz * eps, but eps multiplies sigma, not mu, in z = mu + sigma * eps "
            "(hint 2 of 3 derives it)",
        ),
        Mistake(
            "dlogvar ignores dz",
            _IgnoresDz,
            "dlogvar ignores dz: multiply the local derivative by the upstream gradient dz "
            "(the chain rule)",
        ),
    ],
)
