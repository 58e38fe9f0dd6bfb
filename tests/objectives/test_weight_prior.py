"""tinyvae.objectives.weight_prior: the Gaussian prior on the weights adds theta to the gradient."""

import numpy as np
import pytest

import tinyvae as tv
from tinyvae.objectives.weight_prior import add_weight_prior


def test_weight_prior_adds_theta_to_the_gradient():
    rng = np.random.default_rng(8)
    model = tv.VAE(x_dim=4, hidden=(3,), z_dim=2, rng=rng, dtype=np.float64)
    model.zero_grad()
    penalty = add_weight_prior(model, scale=2.0)
    for _, param, grad in model.parameters():
        np.testing.assert_array_equal(grad, 2.0 * param)
    assert penalty == pytest.approx(sum(np.sum(p**2) for _, p, _ in model.parameters()))
