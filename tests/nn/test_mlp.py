"""tinyvae.nn.mlp: the MLP's backward pass against finite differences.

Shapes and values are drawn by hypothesis, in float64; each check uses a
random upstream gradient, so a backward that is right only for dy = 1 fails.
"""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.gradcheck import check_module
from tinyvae.nn.activations import ACTIVATIONS
from tinyvae.nn.mlp import MLP


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@given(B=batch, hidden=st.lists(dim, max_size=2), seed=seeds)
def test_mlp_backward(activation, B, hidden, seed):
    rng = np.random.default_rng(seed)
    mlp = MLP(3, hidden, 2, activation=activation, rng=rng, dtype=np.float64)
    for _, param, _ in mlp.parameters():  # random biases keep ReLU inputs off 0
        param[...] = rng.normal(0, 0.7, param.shape)
    report = check_module(mlp, rng.normal(size=(B, 3)), n_grads=1, rng=rng)
    assert report.passed(TOL), str(report)
