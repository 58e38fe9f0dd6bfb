"""Estimators, evaluation and wake-sleep use only a model's public parts.

A stand-in posterior that is not a diagonal Gaussian -- a Gaussian followed
by one learned elementwise affine flow step, z = z0 * exp(a) + c, so that
log q(z|x) = log q0(z0|x) - sum_j a_j -- replaces the VAE's. Estimator A,
IWAE, L_k and reconstruction must then be right (checked against finite
differences and against a direct computation); estimator B, the score
function and wake-sleep, which need what this posterior lacks (a closed-form
KL, a density at a given z), must refuse it with a clear error.
"""

import math

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.gradcheck import check_loss
from tinyvae.nn import Module
from tinyvae.train import evaluate


class AffineFlowPosterior(Module):
    """q(z|x): z0 ~ N(mu, exp(logvar)) from the encoder, then z = z0 * exp(a) + c."""

    def __init__(self, encoder, z_dim, rng):
        super().__init__()
        self.base = tv.GaussianPosterior(encoder, z_dim)
        self.z_dim = z_dim
        self.add_param("a", rng.normal(0, 0.3, z_dim))
        self.add_param("c", rng.normal(0, 0.3, z_dim))

    def forward(self, x, eps):
        z0, log_q0 = self.base.forward(x, eps)
        self.save(z0)
        scale = np.exp(self.params["a"])
        return z0 * scale + self.params["c"], log_q0 - np.sum(self.params["a"])

    def backward(self, dz, dlog_q):
        z0 = self.take()
        scale = np.exp(self.params["a"])
        # dz/dc = 1; dz/da = z0 exp(a); d log q / da = -1
        self.grads["c"] += dz.reshape(-1, self.z_dim).sum(axis=0)
        self.grads["a"] += (dz * z0 * scale).reshape(-1, self.z_dim).sum(axis=0)
        self.grads["a"] -= np.sum(dlog_q)
        return self.base.backward(dz * scale, dlog_q)

    def encode(self, x):
        return self.base.encode(x)

    def sample_from(self, params, eps):
        z0, log_q0 = self.base.sample_from(params, eps)
        a, c = self.params["a"], self.params["c"]
        return z0 * np.exp(a) + c, log_q0 - np.sum(a)

    def sample(self, x, eps):
        return self.sample_from(self.encode(x), eps)

    def mean(self, x):
        mu, _ = self.encode(x)
        return mu * np.exp(self.params["a"]) + self.params["c"]


def flow_vae(seed=0, likelihood="bernoulli"):
    rng = np.random.default_rng(seed)
    model = tv.VAE(
        x_dim=5,
        hidden=(4,),
        z_dim=2,
        activation="tanh",
        likelihood=likelihood,
        rng=rng,
        dtype=np.float64,
    )
    model.posterior = AffineFlowPosterior(model.encoder, 2, rng)
    return model


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return (rng.uniform(size=(3, 5)) > 0.5).astype(np.float64), rng.normal(size=(4, 3, 2))


def test_the_flow_parameters_are_listed_once_beside_the_networks():
    names = [name for name, _, _ in flow_vae().parameters()]
    assert names[:2] == ["encoder.layers.0.W", "encoder.layers.0.b"]
    assert "posterior.a" in names and "posterior.c" in names
    assert len(names) == len(set(names)) == 8 + 2


@pytest.mark.parametrize("estimator", ["A", "iwae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_estimators_a_and_iwae_train_a_flow_posterior_correctly(estimator, likelihood, data):
    x, eps = data
    model = flow_vae(likelihood=likelihood)
    objective = tv.make_objective(model, estimator, n_samples=len(eps))
    report = check_loss(objective, lambda: objective.loss(x, eps=eps))
    assert report.passed(), str(report)
    flow_rows = [row for row in report.rows if row["name"].startswith("posterior.")]
    assert len(flow_rows) == 2 and all(row["rel_error"] < 1e-7 for row in flow_rows)


def test_the_bound_is_computed_from_the_flow_density(data):
    """Estimator A's value equals log w averaged, with log q including -sum a."""
    x, eps = data
    model = flow_vae()
    mu, logvar = model.encode(x)
    z0 = mu + np.exp(0.5 * logvar) * eps
    a, c = model.posterior.params["a"], model.posterior.params["c"]
    z = z0 * np.exp(a) + c
    log_q = -0.5 * np.sum(np.log(2 * np.pi) + logvar + eps**2, axis=-1) - a.sum()
    logits = model.decode(z.reshape(-1, 2)).reshape(4, 3, 5)
    log_px = np.sum(x * logits - tv.softplus(logits), axis=-1)
    log_pz = -0.5 * np.sum(np.log(2 * np.pi) + z**2, axis=-1)
    log_w = log_px + log_pz - log_q
    np.testing.assert_allclose(model.elbo(x, eps=eps, estimator="A"), log_w.mean(0), rtol=1e-12)
    iwae = np.log(np.mean(np.exp(log_w), axis=0))
    np.testing.assert_allclose(model.elbo(x, eps=eps, estimator="iwae"), iwae, rtol=1e-12)


def test_log_likelihood_and_reconstruction_use_the_flow(data):
    x, _ = data
    model = flow_vae()
    k = 9
    estimate = tv.log_likelihood(model, x, k=k, rng=np.random.default_rng(3), batch_size=2)
    eps = np.random.default_rng(3)
    # the same draws, chunk by chunk as log_likelihood takes them (batches of 2, then 1)
    expected = []
    for xb in (x[:2], x[2:]):
        e = eps.standard_normal((k, len(xb), 2))
        expected.append(model.elbo(xb, eps=e, estimator="iwae"))
    np.testing.assert_allclose(estimate, np.concatenate(expected), rtol=1e-10)
    # a Gaussian posterior's L_k differs: the flow is really used
    plain = tv.VAE(
        x_dim=5,
        hidden=(4,),
        z_dim=2,
        activation="tanh",
        dtype=np.float64,
        rng=np.random.default_rng(0),
    )
    assert not np.allclose(tv.log_likelihood(plain, x, k=k, rng=np.random.default_rng(3)), estimate)

    r = model.reconstruct(x, np.random.default_rng(4))
    e = np.random.default_rng(4).standard_normal((3, 2))
    z, _ = model.posterior.sample(x, e)
    np.testing.assert_allclose(r, tv.sigmoid(model.decode(z)), rtol=1e-12)
    _, variances = tv.active_units(model, x, threshold=0.0)
    np.testing.assert_allclose(variances, np.var(model.posterior.mean(x), axis=0))


def test_what_needs_more_than_samples_and_densities_refuses_clearly(data):
    x, eps = data
    model = flow_vae()
    with pytest.raises(TypeError, match="estimator B needs a posterior with a closed-form KL"):
        tv.SGVB_B(model)
    with pytest.raises(TypeError, match="closed-form KL"):
        model.loss(x, eps=eps)  # the VAE's default estimator is B
    with pytest.raises(TypeError, match="closed-form KL"):
        model.elbo(x, eps=eps, estimator="B")
    # elbo's default is B where the posterior has a closed-form KL, else A
    np.testing.assert_array_equal(model.elbo(x, eps=eps), model.elbo(x, eps=eps, estimator="A"))
    with pytest.raises(TypeError, match="score-function estimator needs log q"):
        tv.ScoreFunction(model)
    with pytest.raises(TypeError, match="sleep phase needs log q"):
        tv.WakeSleep(model)
    # fit's test loss is then the ELBO by estimator A, which works
    assert math.isfinite(evaluate(model, x, np.random.default_rng(0), n_samples=2))
