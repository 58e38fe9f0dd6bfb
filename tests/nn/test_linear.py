"""tinyvae.nn.linear: Linear's backward pass against finite differences, and input_grad.

Shapes and values are drawn by hypothesis, in float64; each check uses a
random upstream gradient, so a backward that is right only for dy = 1 fails.
"""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds
from hypothesis import given

import tinyvae as tv
from tinyvae.gradcheck import check_module
from tinyvae.nn.linear import Linear


@pytest.mark.parametrize("init", ["glorot_uniform", "he_uniform", "aevb_normal", "pytorch"])
@given(B=batch, n_in=dim, n_out=dim, seed=seeds)
def test_linear_backward(init, B, n_in, n_out, seed):
    rng = np.random.default_rng(seed)
    layer = Linear(n_in, n_out, init=init, rng=rng, dtype=np.float64)
    report = check_module(layer, rng.normal(size=(B, n_in)), n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)
    assert {row["name"] for row in report.rows} == {"input 0", "W", "b"}


def test_first_layer_without_input_gradient():
    """input_grad=False skips dL/dx (the input is data) and says so with None."""
    rng = np.random.default_rng(0)
    layer = Linear(3, 2, rng=rng, dtype=np.float64, input_grad=False)
    x, dy = rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    layer.forward(x)
    assert layer.backward(dy) is None
    np.testing.assert_allclose(layer.grads["W"], x.T @ dy)
    mlp = tv.MLP(3, (4,), 2, rng=rng, dtype=np.float64, input_grad=False)
    for _, param, _ in mlp.parameters():
        param[...] = rng.normal(0, 0.7, param.shape)
    report = check_module(mlp, x, n_grads=0, rng=rng)  # parameters only
    assert report.passed(TOL) and len(report.rows) == 4
