"""tinyvae.nn.masked_linear and tinyvae.nn.made: the masked layer, the masks, the MADE.

The autoregressive property is tested on the network itself: the Jacobian
d out_i / d z_j, row by row from MADE's own backward, is exactly zero
unless input j comes before output i in the order.
"""

import numpy as np
import pytest
from helpers import TOL, seeds
from hypothesis import given, settings
from hypothesis import strategies as st

import tinyvae as tv
from tinyvae.gradcheck import check_module
from tinyvae.nn.made import MADE, connectivity, format_mask, made_degrees, made_masks
from tinyvae.nn.masked_linear import MaskedLinear


def random_mask(rng, n_in, n_out):
    return rng.uniform(size=(n_in, n_out)) < 0.5


@given(seed=seeds)
def test_masked_linear_backward(seed):
    rng = np.random.default_rng(seed)
    layer = MaskedLinear(random_mask(rng, 4, 3), rng=rng, dtype=np.float64)
    report = check_module(layer, rng.normal(size=(5, 4)), rng=rng)
    assert report.passed(TOL), str(report)


def test_masked_weights_are_zero_get_no_gradient_and_never_move():
    rng = np.random.default_rng(0)
    mask = random_mask(rng, 5, 4)
    layer = MaskedLinear(mask, rng=rng, dtype=np.float64)
    assert np.all(layer.params["W"][~mask] == 0) and np.all(layer.params["W"][mask] != 0)
    optimizer = tv.Adam(layer.parameters(), lr=0.1)
    for _ in range(3):
        layer.zero_grad()
        layer.forward(rng.normal(size=(6, 5)))
        layer.backward(rng.normal(size=(6, 4)))
        assert np.all(layer.grads["W"][~mask] == 0)
        optimizer.step()
    assert np.all(layer.params["W"][~mask] == 0)


def test_masked_linear_is_linear_with_the_masked_weights():
    rng = np.random.default_rng(1)
    mask = random_mask(rng, 3, 2)
    layer = MaskedLinear(mask, rng=rng, dtype=np.float64)
    layer.params["W"][...] = rng.normal(size=(3, 2))  # even with nonzero masked weights
    x = rng.normal(size=(4, 3))
    expected = x @ (layer.params["W"] * mask) + layer.params["b"]
    np.testing.assert_allclose(layer.forward(x), expected)


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.ones(3), "2-D"),
        (np.ones((0, 3)), "2-D"),
        (np.full((2, 2), 0.5), "zeros and ones"),
        (np.array([["a", "b"]]), "zeros and ones"),
    ],
)
def test_bad_masks(mask, message):
    with pytest.raises(ValueError, match=message):
        MaskedLinear(mask)


def test_natural_degrees_and_masks_by_hand():
    """D = 3, one hidden layer of 4: degrees 1..3, hidden 1, 2, 1, 2."""
    degrees = made_degrees(3, (4,))
    np.testing.assert_array_equal(degrees[0], [1, 2, 3])
    np.testing.assert_array_equal(degrees[1], [1, 2, 1, 2])
    hidden, output = made_masks(degrees)
    assert format_mask(hidden) == "1111\n.1.1\n...."
    # output i (degree i + 1) sees hidden units of smaller degree
    assert format_mask(output) == ".11\n..1\n.11\n..1"
    # input 0 reaches outputs 1 and 2, input 1 output 2, input 2 nothing
    assert format_mask(connectivity([hidden, output])) == ".11\n..1\n..."


def test_degrees_with_one_variable_see_only_biases():
    degrees = made_degrees(1, (3,))
    np.testing.assert_array_equal(degrees[1], [0, 0, 0])
    assert not connectivity(made_masks(degrees)).any()


def test_random_degrees_stay_in_range():
    rng = np.random.default_rng(2)
    degrees = made_degrees(6, (20, 20), order=rng.permutation(6), hidden_degrees="random", rng=rng)
    for layer in degrees[1:]:
        assert layer.min() >= 1 and layer.max() <= 5


def jacobian(made, z, h=None):
    """d out / d z for one example, (heads * D, D), from MADE's backward one output at a time."""
    D, n_out = made.z_dim, made.heads * made.z_dim
    rows = []
    for k in range(n_out):
        made.forward(z, h)
        dout = np.zeros((1, n_out))
        dout[0, k] = 1.0
        douts = (dout,) if made.heads == 1 else np.split(dout, made.heads, axis=1)
        grads = made.backward(*douts)
        rows.append((grads[0] if made.context_dim else grads)[0])
    return np.array(rows).reshape(n_out, D)


@settings(max_examples=25, deadline=None)
@given(
    D=st.integers(1, 7),
    depth=st.integers(1, 3),
    heads=st.integers(1, 2),
    context=st.integers(0, 2),
    hidden_degrees=st.sampled_from(["natural", "random"]),
    seed=seeds,
)
def test_autoregressive_property_of_the_jacobian(D, depth, heads, context, hidden_degrees, seed):
    rng = np.random.default_rng(seed)
    order = rng.permutation(D)
    made = MADE(
        D,
        (12,) * depth,
        heads=heads,
        context_dim=context,
        order=order,
        hidden_degrees=hidden_degrees,
        activation="tanh",
        rng=rng,
        dtype=np.float64,
    )
    h = rng.normal(size=(1, context)) if context else None
    J = jacobian(made, rng.normal(size=(1, D)), h)
    out_order = np.tile(order, heads)
    allowed = order[None, :] < out_order[:, None]  # input j strictly before output i
    assert np.all(J[~allowed] == 0.0), "an output depends on an input that is not before it"
    np.testing.assert_array_equal(made.connectivity().T, allowed & made.connectivity().T)


def test_natural_degrees_connect_everything_allowed():
    """With enough hidden units, every allowed input-output pair is connected."""
    made = MADE(5, (10, 10), heads=2, order=[3, 0, 4, 1, 2], rng=np.random.default_rng(3))
    order = made.order
    allowed = order[:, None] < np.tile(order, 2)[None, :]
    np.testing.assert_array_equal(made.connectivity(), allowed)


@pytest.mark.parametrize("heads, context", [(1, 0), (2, 0), (1, 3), (2, 3)])
def test_made_backward(heads, context):
    rng = np.random.default_rng(heads * 10 + context)
    made = MADE(4, (6, 5), heads, context, order=[1, 3, 0, 2], rng=rng, dtype=np.float64)
    h = rng.normal(size=(5, context)) if context else None  # None: dh must be None
    report = check_module(made, rng.normal(size=(5, 4)), h, rng=rng)
    assert report.passed(TOL), str(report)
    expected = {"layers.0.W", "layers.0.b", "layers.2.W", "layers.2.b", "layers.4.W"}
    assert expected <= {row["name"] for row in report.rows}


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"order": [0, 0, 1]}, ValueError, "permutation"),
        ({"order": [0, 1]}, ValueError, "order"),
        ({"order": [0.0, 1.0, 2.0]}, ValueError, "order"),
        ({"hidden": ()}, ValueError, "at least one hidden layer"),
        ({"hidden": (0,)}, ValueError, "hidden"),
        ({"heads": 0}, ValueError, "heads"),
        ({"context_dim": -1}, ValueError, "context_dim"),
        ({"hidden_degrees": "sorted"}, ValueError, "hidden_degrees"),
        ({"activation": "swish"}, ValueError, "activation"),
    ],
)
def test_made_rejects_bad_arguments(kwargs, error, message):
    arguments = {"z_dim": 3, "hidden": (4,), **kwargs}
    with pytest.raises(error, match=message):
        MADE(**arguments)


def test_random_hidden_degrees_need_a_generator():
    with pytest.raises(TypeError, match="rng"):
        made_degrees(3, (4,), hidden_degrees="random")


def test_made_with_context_refuses_none_before_changing_anything():
    """A layer trusts its caller's arrays (the model's doors check them), but a context
    missing where the MADE was built to read one is a wiring mistake it names."""
    made = MADE(3, (4,), context_dim=2, rng=np.random.default_rng(0), dtype=np.float64)
    with pytest.raises(ValueError, match="h: this MADE was built with context_dim=2"):
        made.forward(np.zeros((2, 3)))
    assert all(module.cache is None for _, module in made.modules())


def test_made_backward_always_returns_dz_and_dh():
    """Fixed arity: (dz, dh), dh None without a context, whatever the MADE was built with."""
    for context in (0, 2):
        made = MADE(3, (4,), context_dim=context, rng=np.random.default_rng(0))
        h = np.ones((2, context), np.float32) if context else None
        made.forward(np.ones((2, 3), np.float32), h)
        dz, dh = made.backward(np.ones((2, 3), np.float32))
        assert dz.shape == (2, 3)
        assert (dh is None) == (context == 0)


def test_made_without_context_refuses_one():
    made = MADE(3, (4,), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match="context_dim=0"):
        made.forward(np.zeros((2, 3), np.float32), np.zeros((2, 1), np.float32))


def test_the_first_variable_sees_neither_z_nor_the_context():
    """No hidden unit has a degree below 1: the first variable's outputs are biases alone."""
    rng = np.random.default_rng(1)
    made = MADE(3, (8, 8), heads=2, context_dim=2, order=[2, 0, 1], rng=rng, dtype=np.float64)
    z = rng.normal(size=(4, 3))
    m0, s0 = made.forward(z, np.zeros((4, 2)))
    m1, s1 = made.forward(rng.normal(size=(4, 3)), 5 * np.ones((4, 2)))
    made.clear_cache()
    first = 1  # order[1] == 0
    np.testing.assert_array_equal(m0[:, first], m1[:, first])
    np.testing.assert_array_equal(s0[:, first], s1[:, first])
    assert not np.allclose(m0[:, 0], m1[:, 0])


def test_parameter_count_leaves_out_masked_weights():
    made = MADE(3, (4,), heads=2, context_dim=2, rng=np.random.default_rng(0))
    kept = sum(int(mask.sum()) for mask in made.masks)
    biases = 4 + 6
    assert made.num_parameters() == kept + biases + 2 * 4  # + the context's V
    assert made.num_parameters() < sum(p.size for _, p, _ in made.parameters())
