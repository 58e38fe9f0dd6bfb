"""tinyvae.objectives.score_function: the score-function (REINFORCE) estimator and its baseline."""

import numpy as np
import pytest

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
