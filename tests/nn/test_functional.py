"""tinyvae.nn.functional: sigmoid and softplus stay finite and exact at the extremes."""

import numpy as np

from tinyvae.nn.functional import sigmoid, softplus


def test_sigmoid_and_softplus_are_stable():
    x = np.array([-1e4, -50.0, 0.0, 50.0, 1e4])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        s, sp = sigmoid(x), softplus(x)
    np.testing.assert_allclose(s, [0, 1 / (1 + np.exp(50)), 0.5, 1 / (1 + np.exp(-50)), 1])
    np.testing.assert_allclose(sp, [0, np.log1p(np.exp(-50)), np.log(2), 50, 1e4])
