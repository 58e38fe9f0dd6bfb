"""tinyvae.nn.labelled_linear: the first layer of M2's encoder, which computes x W_x once
per example for all the rows (labels) that read it.

It must compute what a Linear on the concatenated rows [x[rows], y] computes, and its
backward must pass a float64 gradient check with a random upstream gradient, whatever
the rows: repeated, out of order, or leaving some examples unread.
"""

import numpy as np
import pytest
from helpers import TOL, dim, seeds
from hypothesis import given
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.gradcheck import check_module
from tinyvae.nn.labelled_linear import LabelledLinear, LabelledRows


def layer_and_rows(seed, B, D, K, H, R):
    rng = np.random.default_rng(seed)
    layer = LabelledLinear(tv.Linear(D + K, H, rng=rng, dtype=np.float64), D)
    layer.params["b"][...] = rng.normal(size=H)  # a bias that is not zero
    x = rng.normal(size=(B, D))
    rows = rng.integers(0, B, R)  # any rows: repeats, any order, some examples unread
    y = np.eye(K)[rng.integers(0, K, R)]
    return layer, LabelledRows(x, rows, y), rng


@given(seed=seeds, B=st.integers(1, 5), D=dim, K=st.integers(2, 4), H=dim, R=st.integers(1, 12))
def test_it_computes_the_linear_layer_of_the_concatenated_rows(seed, B, D, K, H, R):
    layer, inputs, _ = layer_and_rows(seed, B, D, K, H, R)
    expected = inputs.concatenated() @ layer.params["W"] + layer.params["b"]
    np.testing.assert_allclose(layer.forward(inputs), expected, rtol=1e-12, atol=1e-12)


class WithRows(tv.Module):
    """The layer with its rows and labels fixed, so that the gradient check sees an array:
    ``forward(x) = layer.forward(LabelledRows(x, rows, y))``."""

    def __init__(self, layer, rows, y):
        super().__init__()
        self.layer, self.rows, self.y = layer, rows, y

    def forward(self, x):
        return self.layer.forward(LabelledRows(x, self.rows, self.y))

    def backward(self, dh):
        return self.layer.backward(dh)


@given(seed=seeds, B=st.integers(1, 5), D=dim, K=st.integers(2, 4), H=dim, R=st.integers(1, 12))
def test_labelled_linear_backward(seed, B, D, K, H, R):
    layer, (x, rows, y), rng = layer_and_rows(seed, B, D, K, H, R)
    report = check_module(WithRows(layer, rows, y), x, constant=[0], rng=rng)
    assert report.passed(TOL), str(report)
    assert {row["name"] for row in report.rows} == {"layer.W", "layer.b"}


@pytest.mark.parametrize("D", [12, 2])  # x W_x's gradient both ways: through S, and row by row
def test_its_gradients_are_the_concatenated_linear_layers(D):
    """The same W and b gradients as a Linear on [x[rows], y] (which recomputes x W_x for
    every row), added to what the gradients held."""
    layer, inputs, rng = layer_and_rows(3, B=4, D=D, K=3, H=5, R=10)
    linear = tv.Linear(D + 3, 5, rng=rng, dtype=np.float64, input_grad=False)
    linear.params["W"][...], linear.params["b"][...] = layer.params["W"], layer.params["b"]
    held = rng.normal(size=(D + 3, 5))
    layer.grads["W"][...], linear.grads["W"][...] = held, held
    dh = rng.normal(size=(10, 5))
    layer.forward(inputs)
    assert layer.backward(dh) is None  # x and y are data
    linear.forward(inputs.concatenated())
    linear.backward(dh)
    for name in ("W", "b"):
        np.testing.assert_allclose(layer.grads[name], linear.grads[name], rtol=1e-12)


def test_it_shares_the_linear_layers_parameters_and_names_them_alike():
    """M2 draws its encoder's first layer as a Linear and hands its arrays over, so that
    the weights, their names and a checkpoint are those of a Linear on [x, y]."""
    rng = np.random.default_rng(4)
    linear = tv.Linear(7, 3, rng=rng)
    layer = LabelledLinear(linear, 5)
    assert layer.params["W"] is linear.params["W"] and layer.grads["b"] is linear.grads["b"]
    assert [name for name, _, _ in layer.parameters()] == ["W", "b"]
    assert repr(layer) == "LabelledLinear(5 + 2, 3)"
    model = tv.M2(5, n_classes=2, hidden=(3,), z_dim=2, rng=rng)
    assert isinstance(model.encoder.layers[0], LabelledLinear)
    assert model.encoder.layers[0].params["W"].shape == (7, 3)
    assert "encoder.layers.0.W" in [name for name, _, _ in model.parameters()]


def test_concatenated_rows_are_refused_with_a_pointer_to_labelled_rows():
    layer, inputs, _ = layer_and_rows(5, B=3, D=2, K=2, H=2, R=3)
    with pytest.raises(TypeError, match=r"LabelledRows\.one_each"):
        layer.forward(inputs.concatenated())  # 3 rows: would unpack as (x, rows, y)
    assert layer.cache is None
