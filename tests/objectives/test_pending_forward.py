"""A backward never mixes two forward passes, and refuses before it adds a single gradient."""

import numpy as np
import pytest

import tinyvae as tv


@pytest.fixture
def setup():
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=rng, dtype=np.float64)
    x1 = (rng.uniform(size=(3, 6)) > 0.5) * 1.0
    x2 = (rng.uniform(size=(3, 6)) > 0.5) * 1.0
    return model, x1, x2


def grads(model):
    return [grad.copy() for _, _, grad in model.parameters()]


def assert_unchanged(model, before):
    for old, (name, _, new) in zip(before, model.parameters()):
        np.testing.assert_array_equal(old, new, err_msg=name)


@pytest.mark.parametrize(
    "intrude",
    [
        lambda m, x: m.encode(x),
        lambda m, x: m.elbo(x, rng=np.random.default_rng(1)),
        lambda m, x: tv.active_units(m, x),
        lambda m, x: m.reconstruct(x, np.random.default_rng(1)),
        lambda m, x: tv.SGVB_A(m).loss(x, rng=np.random.default_rng(1)),
    ],
)
@pytest.mark.parametrize("estimator", ["B", "A", "iwae", "score"])
def test_a_forward_in_between_makes_backward_refuse_and_change_nothing(setup, intrude, estimator):
    model, x1, x2 = setup
    objective = tv.make_objective(model, estimator, n_samples=2)
    model.zero_grad()
    objective.loss(x1, rng=np.random.default_rng(2))
    intrude(model, x2)
    before = grads(model)
    with pytest.raises(RuntimeError, match="call loss\\(\\) again. No gradient was changed"):
        objective.backward()
    assert_unchanged(model, before)


def test_two_objectives_on_one_model_cannot_swap_their_forwards(setup):
    model, x1, x2 = setup
    a, b = tv.IWAE(model, n_samples=3), tv.IWAE(model, n_samples=3)
    a.loss(x1, rng=np.random.default_rng(3))
    b.loss(x2, rng=np.random.default_rng(4))
    with pytest.raises(RuntimeError, match="another forward pass"):
        a.backward()
    b.backward()  # the latest forward is intact


def test_the_model_shortcut_refuses_after_another_objectives_loss(setup):
    model, x1, x2 = setup
    model.loss(x1, rng=np.random.default_rng(5))
    tv.SGVB_B(model).loss(x2, rng=np.random.default_rng(6))
    with pytest.raises(RuntimeError, match="another forward pass"):
        model.backward()


def test_wake_sleep_checks_both_phases_before_either_adds_a_gradient(setup):
    model, x1, _ = setup
    ws = tv.WakeSleep(model)
    model.zero_grad()
    ws.loss(x1, rng=np.random.default_rng(7))
    model.encode(x1)  # clears the sleep phase's encoder activations
    before = grads(model)
    with pytest.raises(RuntimeError, match="the activations of its GaussianPosterior"):
        ws.backward()
    assert_unchanged(model, before)
    assert np.isfinite(ws.bound(x1, rng=np.random.default_rng(8))).all()


def test_estimator_b_refuses_a_prior_other_than_the_standard_normal(setup):
    model, x1, _ = setup
    model.prior = type("WidePrior", (tv.Module,), {"cache": None})()
    with pytest.raises(TypeError, match="against the prior N\\(0, I\\)"):
        tv.SGVB_B(model)
    with pytest.raises(TypeError, match="closed-form KL"):
        tv.WakeSleep(model)

    class ShiftedPrior(tv.StandardNormalPrior):
        """A subclass of the standard normal prior is still the standard normal."""

    model.prior = ShiftedPrior(2, np.float64)
    assert np.isfinite(tv.SGVB_B(model).loss(x1, rng=np.random.default_rng(9)))
