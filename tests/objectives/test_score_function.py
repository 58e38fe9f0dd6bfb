"""tinyvae.objectives.score_function: the score-function (REINFORCE) estimator and its baseline."""

import numpy as np
import pytest
from helpers import assert_finite_step, set_encoder_logvar

import tinyvae as tv


def test_score_function_and_reparameterized_gradients_agree_in_expectation():
    rng = np.random.default_rng(4)
    model = tv.VAE(x_dim=5, hidden=(4,), z_dim=2, activation="tanh", rng=rng, dtype=np.float64)
    x = (rng.uniform(size=(3, 5)) > 0.5).astype(np.float64)
    grads = {}
    for estimator, baseline in (("A", False), ("score", False), ("score", True)):
        model.zero_grad()
        model.loss(
            x,
            rng=np.random.default_rng(5),
            n_samples=400_000,
            estimator=estimator,
            baseline=baseline,
        )
        model.backward()
        grads[estimator, baseline] = np.concatenate(
            [g.ravel() for n, _, g in model.parameters() if n.startswith("encoder")]
        )
    reference = grads["A", False]
    for key in (("score", False), ("score", True)):
        error = np.linalg.norm(grads[key] - reference) / np.linalg.norm(reference)
        assert error < 0.05, (key, error)


def test_score_baseline_needs_two_samples():
    model = tv.VAE(x_dim=4, hidden=(3,), z_dim=2, rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="n_samples >= 2"):
        model.loss(
            np.zeros((2, 4), np.float32),
            rng=np.random.default_rng(0),
            estimator="score",
            baseline=True,
        )
    with pytest.raises(ValueError, match="estimator"):
        model.loss(np.zeros((2, 4), np.float32), rng=np.random.default_rng(0), estimator="C")


@pytest.mark.parametrize("logvar", [80.0, -80.0])
def test_stays_finite_in_float32_at_an_extreme_encoder_variance(logvar):
    # (z - mu)^2 / sigma^2 is computed as r^2 with r = (z - mu) / sigma: with sigma = e^40
    # the plain (z - mu)^2 * exp(-logvar) overflows, and so did its gradient.
    rng = np.random.default_rng(0)
    model = tv.VAE(x_dim=6, hidden=(4,), z_dim=2, rng=rng)
    set_encoder_logvar(model, logvar)
    objective = tv.ScoreFunction(model, n_samples=3, baseline=True)
    x = (rng.uniform(size=(5, 6)) > 0.5).astype(np.float32)
    assert_finite_step(objective, lambda: objective.loss(x, rng=rng))
