"""tinyvae.nn.activations: every activation's backward pass against finite differences.

Shapes and values are drawn by hypothesis, in float64; each check uses a
random upstream gradient, so a backward that is right only for dy = 1 fails.
"""

import numpy as np
import pytest
from helpers import TOL, batch, dim, seeds
from hypothesis import given

from tinyvae.gradcheck import check_module
from tinyvae.nn.activations import ACTIVATIONS


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
