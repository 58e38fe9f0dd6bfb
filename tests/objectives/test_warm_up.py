"""tinyvae.objectives.warm_up: estimator A with beta on the KL part (Sønderby et al. 2016)."""

import numpy as np
import pytest
from helpers import TOL

import tinyvae as tv
from tinyvae.gradcheck import check_loss
from tinyvae.models.hierarchical import HierarchicalVAE


def models():
    rng = np.random.default_rng(0)
    return {
        "diagonal": tv.VAE(8, (6,), 3, rng=rng, dtype=np.float64, estimator="A"),
        "iaf": tv.VAE(8, (6,), 3, rng=rng, dtype=np.float64, iaf_steps=1, iaf_hidden=(5,)),
        "two-layer": HierarchicalVAE(8, (6,), 4, (5,), 3, rng=rng, dtype=np.float64),
    }


def batch(model, L, seed=1):
    rng = np.random.default_rng(seed)
    x = (rng.uniform(size=(5, 8)) < 0.5).astype(np.float64)
    return x, rng.normal(size=(L, 5, model.z_dim))


@pytest.mark.parametrize("name", ["diagonal", "iaf", "two-layer"])
@pytest.mark.parametrize("beta, L", [(0.0, 1), (0.37, 3), (1.0, 2)])
def test_gradients_at_any_beta(name, beta, L):
    model = models()[name]
    objective = tv.WarmUp(model, warmup_steps=10)
    objective.beta = beta
    x, eps = batch(model, L)
    report = check_loss(objective, lambda: objective.loss(x, eps=eps), rng=np.random.default_rng(2))
    assert report.passed(TOL), str(report)


@pytest.mark.parametrize("name", ["diagonal", "two-layer"])
def test_beta_weights_the_kl_part_of_estimator_a(name):
    """bound_beta = log p(x|z) + beta (log p(z) - log q(z|x)): linear in beta, estimator A at
    1, and at 0 the reconstruction term alone."""
    model = models()[name]
    objective, a = tv.WarmUp(model, warmup_steps=10), tv.SGVB_A(model)
    x, eps = batch(model, 2)
    bounds = {}
    for beta in (0.0, 0.25, 1.0):
        objective.beta = beta
        bounds[beta] = objective.bound(x, eps=eps)
    np.testing.assert_allclose(bounds[1.0], a.bound(x, eps=eps), rtol=1e-12)
    z, _ = model.posterior.sample(x, eps)
    log_px = model.likelihood.log_prob(x, z).mean(axis=0)
    np.testing.assert_allclose(bounds[0.0], log_px, rtol=1e-12)
    np.testing.assert_allclose(bounds[0.25], 0.75 * bounds[0.0] + 0.25 * bounds[1.0], rtol=1e-10)


def test_the_schedule_rises_linearly_then_stays_at_one():
    objective = tv.WarmUp(models()["diagonal"], warmup_steps=4)
    assert objective.beta == 0.0
    betas = []
    for step in (0, 1, 2, 4, 9):
        objective.set_step(step)
        betas.append(objective.beta)
    assert betas == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert objective.settings() == {"n_samples": 1, "estimator": "A_warmup", "warmup_steps": 4}
    assert repr(objective) == "WarmUp(warmup_steps=4, n_samples=1)"


def test_backward_uses_the_beta_of_its_forward():
    model = models()["diagonal"]
    x, eps = batch(model, 1)
    grads = []
    for change in (False, True):
        objective = tv.WarmUp(model, warmup_steps=10)
        objective.beta = 0.5
        objective.zero_grad()
        objective.loss(x, eps=eps)
        if change:
            objective.beta = 1.0  # set between the forward and its backward
        objective.backward()
        grads.append([g.copy() for _, _, g in objective.parameters()])
    for before, after in zip(*grads):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda o: tv.WarmUp(o.model, warmup_steps=0), "warmup_steps: expected an integer >= 1"),
        (lambda o: setattr(o, "beta", 1.5), "beta: expected"),
        (lambda o: setattr(o, "beta", float("nan")), "beta: expected"),
        (lambda o: o.set_step(-1), "step: expected an integer >= 0"),
    ],
)
def test_bad_arguments(call, message):
    objective = tv.WarmUp(models()["diagonal"], warmup_steps=3)
    with pytest.raises(ValueError, match=message):
        call(objective)
    assert objective.beta == 0.0


def test_trains_a_two_layer_model_and_reports_the_elbo():
    rng = np.random.default_rng(3)
    model = HierarchicalVAE(8, (6,), 4, (5,), 3, rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(40, 8)) < 0.3).astype(np.float64)
    objective = tv.WarmUp(model, warmup_steps=6)
    history = tv.fit(
        objective, tv.Adam(model.parameters(), lr=1e-2), tv.Batches(x, batch_size=10), x[:10],
        epochs=3, rng=rng, on_step=objective.set_step, progress=False,
    )  # fmt: skip
    assert objective.beta == 1.0  # 12 steps, warmed up after 6
    elbo = tv.SGVB_A(model).evaluate(x[:10], np.random.default_rng(4))
    assert np.isfinite(history.test_loss).all() and np.isfinite(elbo)
