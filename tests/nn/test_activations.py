"""tinyvae.nn.activations: every activation's backward pass against finite differences.

Shapes and values are drawn by hypothesis, in float64; each check uses a
random upstream gradient, so a backward that is right only for dy = 1 fails.
"""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds
from hypothesis import given

from tinyvae.gradcheck import check_module
from tinyvae.nn.activations import ACTIVATIONS, Floor


def off_kinks(x, margin=0.05):
    """Move values away from 0, where ReLU-style derivatives do not exist."""
    return np.where(x >= 0, x + margin, x - margin)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@given(B=batch, D=dim, seed=seeds)
def test_activation_backward(name, B, D, seed):
    rng = np.random.default_rng(seed)
    x = off_kinks(rng.normal(0, 2, (B, D)))
    report = check_module(ACTIVATIONS[name](), x, n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)


@given(B=batch, D=dim, seed=seeds)
def test_floor_backward(B, D, seed):
    rng = np.random.default_rng(seed)
    x = off_kinks(rng.normal(0, 2, (B, D))) + 0.5  # the floor at 0.5 is the kink
    report = check_module(Floor(0.5), x, n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)


def test_floor_is_the_identity_above_its_minimum_bit_for_bit():
    x = np.random.default_rng(0).normal(0, 3, 1000).astype(np.float32)
    y = Floor(-1.0).forward(x)
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y[x > -1], x[x > -1])
    assert (y[x <= -1] == -1).all()
    assert np.isnan(Floor(-1.0).forward(np.array([np.nan]))).all()  # NaN is not hidden
