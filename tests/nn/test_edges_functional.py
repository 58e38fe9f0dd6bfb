"""logsumexp, sigmoid and softplus at the numerical edges, against high-precision references.

References are independent of the library's formulas: np.longdouble (15-bit exponent, so
exp(-1e4) is a normal number there) evaluates log(sum(exp(a))) with no shift at all, and
Python floats with math.fsum give an exactly rounded sum of the shifted exponentials.
Every check runs with floating-point warnings turned into errors.
"""

import math
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinyvae.nn import Sigmoid, Softplus, logsumexp, sigmoid, softplus

NEG_INF = -math.inf


def strict(fn, *args, **kwargs):
    """Call fn with every NumPy floating-point warning (but underflow) and warning raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(divide="raise", over="raise", invalid="raise"):
            return fn(*args, **kwargs)


def lse_fsum(values):
    """log sum exp of Python floats: max + log fsum exp(v - max); -inf for no finite term."""
    values = [float(v) for v in values]
    m = max(values)
    if m == NEG_INF:
        return NEG_INF
    if m == math.inf:
        return math.inf
    return m + math.log(math.fsum(math.exp(v - m) for v in values))


def lse_longdouble(values):
    """log(sum(exp(a))) in 80-bit extended precision with no shift (valid for |a| < ~11000)."""
    a = np.asarray(values, dtype=np.longdouble)
    with np.errstate(divide="ignore"):
        return float(np.log(np.sum(np.exp(a))))


# -- logsumexp ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        [-1e4, -1e4, -1e4],
        [-1e4, -1e4 + 1.0, -1e4 - 2.5, -1e4 + 0.25],
        [1e4, 1e4 - 1.0, 1e4 - 3.0],
        [1e4, -1e4],
        [-745.0, -746.0, -800.0],  # each exp underflows to 0 (or a subnormal) in float64
        [710.0, 709.0],  # each exp overflows float64
    ],
)
def test_logsumexp_far_from_zero_matches_an_unshifted_extended_precision_sum(values):
    a = np.array(values)
    got = strict(logsumexp, a)
    assert np.isfinite(got)
    assert got == pytest.approx(lse_longdouble(values), rel=1e-15, abs=0)
    assert got == pytest.approx(lse_fsum(values), rel=1e-15, abs=0)


def test_logsumexp_of_equal_numbers_is_the_number_plus_log_n():
    for value in (-1e4, 1e4, -1e30, 1e30, -3.25):
        for n in (1, 2, 7):
            got = strict(logsumexp, np.full(n, value))
            assert got == pytest.approx(value + math.log(n), rel=1e-15, abs=1e-12)


def test_logsumexp_at_minus_1e30_stays_finite():
    """-1e30 + log 2 rounds to -1e30: the answer is finite, not -inf and not NaN."""
    got = strict(logsumexp, np.array([-1e30, -1e30]))
    assert got == -1e30
    got = strict(logsumexp, np.array([-1e30, -2e30, -1e30]))
    assert got == -1e30


@pytest.mark.parametrize(
    "values",
    [
        [NEG_INF, 0.5],
        [0.5, NEG_INF, -1e4, NEG_INF],
        [NEG_INF, -1e4, -1e4],
        [NEG_INF, 1e4, NEG_INF, 1e4 - 1],
        [NEG_INF, -1e30],
    ],
)
def test_minus_infinity_terms_contribute_nothing(values):
    got = strict(logsumexp, np.array(values))
    finite = [v for v in values if v != NEG_INF]
    assert got == pytest.approx(lse_fsum(finite), rel=1e-15, abs=0)


@pytest.mark.parametrize("n", [1, 2, 5])
def test_an_all_minus_infinity_slice_gives_minus_infinity_without_nan_or_warning(n):
    got = strict(logsumexp, np.full(n, NEG_INF))
    assert got == NEG_INF


def test_all_minus_infinity_rows_next_to_ordinary_ones():
    a = np.array([[NEG_INF, NEG_INF, NEG_INF], [0.0, 1.0, -2.0], [NEG_INF, -1e4, NEG_INF]])
    got = strict(logsumexp, a, axis=1)
    assert got.shape == (3,)
    assert got[0] == NEG_INF
    assert got[1] == pytest.approx(lse_fsum([0.0, 1.0, -2.0]), rel=1e-15, abs=0)
    assert got[2] == -1e4
    assert not np.isnan(got).any()


def test_plus_infinity_and_nan_propagate():
    assert strict(logsumexp, np.array([math.inf, 0.0])) == math.inf
    assert strict(logsumexp, np.array([math.inf, NEG_INF])) == math.inf
    with np.errstate(invalid="ignore"):
        assert np.isnan(logsumexp(np.array([math.nan, 0.0])))


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
def test_each_slice_is_shifted_by_its_own_maximum(axis):
    """Slices near -1e30, -1e4, 0 and +1e4 in one array: a shift shared across slices
    would send the -1e4 ones to -inf (or the +1e4 ones to inf)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 5, 6))
    other = (axis + 1) % a.ndim  # an axis that is not reduced
    offsets = np.array([-1e30, -1e4, 0.0, 1e4, 3.0, -7.0])[: a.shape[other]]
    shape = [1, 1, 1]
    shape[other] = -1
    a = a + offsets.reshape(shape)
    got = strict(logsumexp, a, axis=axis)
    moved = np.moveaxis(a, axis, -1)
    assert got.shape == moved.shape[:-1]
    rows = moved.reshape(-1, moved.shape[-1])
    expected = np.array([lse_fsum(row) for row in rows]).reshape(got.shape)
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_the_default_axis_is_zero():
    a = np.array([[-1e4, 2.0], [-1e4 + 1.0, 3.0]])
    np.testing.assert_array_equal(logsumexp(a), logsumexp(a, axis=0))
    assert logsumexp(a)[0] == pytest.approx(lse_fsum([-1e4, -1e4 + 1]), rel=1e-15, abs=0)


def test_float32_stays_float32_and_finite_at_the_edges():
    a = np.array([[-1e4, 1e4], [-1e4, 1e4]], dtype=np.float32)
    got = strict(logsumexp, a, axis=0)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [-1e4 + math.log(2), 1e4 + math.log(2)], rtol=1e-6)


finite_rows = hnp.arrays(
    np.float64,
    st.integers(1, 8),
    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


@given(a=finite_rows, shift=st.floats(-1e300, 1e300, allow_nan=False))
def test_logsumexp_matches_fsum_bounds_and_shifts(a, shift):
    got = strict(logsumexp, a)
    expected = lse_fsum(a)
    assert got == pytest.approx(expected, rel=1e-14, abs=1e-9)
    # max <= lse <= max + log n
    assert a.max() <= got <= a.max() + math.log(len(a)) + 1e-9 * max(1.0, abs(a.max()))
    # lse(a + c) = lse(a) + c for any c, even where exp(a + c) is not a float64
    b = a + shift
    if np.isfinite(b).all():
        assert strict(logsumexp, b) == pytest.approx(lse_fsum(b), rel=1e-14, abs=1e-9)


# -- sigmoid --------------------------------------------------------------------------------


def sigmoid_reference(x):
    """1 / (1 + e^-x) with e^-x in extended precision (finite for |x| < ~11000)."""
    return float(1 / (1 + np.exp(-np.longdouble(x))))


@pytest.mark.parametrize("x", [-1e4, -800.0, -745.0, -700.0, -100.0, -37.0, -1.0, 0.0, 2.5, 40.0])
def test_sigmoid_matches_an_extended_precision_reference(x):
    got = strict(sigmoid, np.array([x]))[0]
    assert got == pytest.approx(sigmoid_reference(x), rel=1e-15, abs=0)


@pytest.mark.parametrize("x", [800.0, 1e4, 1e300, math.inf])
def test_sigmoid_of_large_positive_inputs_is_exactly_one(x):
    assert strict(sigmoid, np.array([x])).tolist() == [1.0]


@pytest.mark.parametrize("x", [800.0, 1e4, 1e300, math.inf])
def test_sigmoid_of_large_negative_inputs_is_exactly_zero(x):
    assert strict(sigmoid, np.array([-x])).tolist() == [0.0]


def test_sigmoid_keeps_relative_accuracy_in_the_left_tail():
    """sigmoid(-t) = e^-t / (1 + e^-t) ~ e^-t: 1 - sigmoid(t) would round to 0 here."""
    t = np.array([40.0, 100.0, 300.0, 700.0])
    np.testing.assert_allclose(strict(sigmoid, -t), np.exp(-t) / (1 + np.exp(-t)), rtol=1e-15)


def test_sigmoid_symmetry_and_dtype():
    x = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(sigmoid(x) + sigmoid(-x), 1.0, rtol=0, atol=3e-16)
    assert sigmoid(np.float32([-1e4, 1e4])).dtype == np.float32
    assert strict(sigmoid, np.float32([-1e4, 0.0, 1e4])).tolist() == [0.0, 0.5, 1.0]


# -- softplus -------------------------------------------------------------------------------


@pytest.mark.parametrize("x", [40.0, 100.0, 800.0, 1e4, 1e300])
def test_softplus_of_large_x_is_x(x):
    """log(1 + e^x) = x + log1p(e^-x) = x to double precision for x >= 40 (no overflow)."""
    assert strict(softplus, np.array([x])).tolist() == [x]


@pytest.mark.parametrize("x", [-40.0, -100.0, -300.0, -700.0, -740.0])
def test_softplus_of_very_negative_x_is_e_to_the_x(x):
    """log(1 + e^x) = e^x - e^2x / 2 + ... = e^x to double precision for x <= -40.

    log(1 + e^x) without log1p would give exactly 0 here (1 + e^x rounds to 1)."""
    assert strict(softplus, np.array([x]))[0] == pytest.approx(math.exp(x), rel=1e-15, abs=0)


@pytest.mark.parametrize("x", [-800.0, -1e4, -1e300, -math.inf])
def test_softplus_underflows_to_zero_far_left(x):
    assert strict(softplus, np.array([x])).tolist() == [0.0]


@pytest.mark.parametrize("x", [-30.0, -5.0, -0.5, 0.0, 0.5, 5.0, 30.0])
def test_softplus_matches_an_extended_precision_reference_in_the_middle(x):
    expected = float(np.log1p(np.exp(np.longdouble(x))))
    assert strict(softplus, np.array([x]))[0] == pytest.approx(expected, rel=1e-15, abs=0)


def test_softplus_identities_hold_out_to_the_edges():
    """softplus(x) - softplus(-x) = x;  log sigmoid(x) = -softplus(-x)."""
    x = np.array([-1e4, -800.0, -50.0, -1.0, 0.0, 1.0, 50.0, 800.0, 1e4])
    np.testing.assert_allclose(strict(softplus, x) - strict(softplus, -x), x, rtol=1e-15)
    mid = np.linspace(-30, 30, 13)
    np.testing.assert_allclose(np.log(sigmoid(mid)), -softplus(-mid), rtol=1e-13, atol=1e-15)


def test_softplus_float32_at_the_edges():
    got = strict(softplus, np.float32([-1e4, -80.0, 0.0, 1e4]))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, [0.0, math.exp(-80.0), math.log(2.0), 1e4], rtol=1e-6)


# -- the Sigmoid and Softplus modules use them: gradients at the edges ----------------------------


def test_sigmoid_and_softplus_modules_have_finite_exact_gradients_at_the_edges():
    x = np.array([-1e4, -800.0, -40.0, 0.0, 40.0, 800.0, 1e4])
    s, sp = Sigmoid(), Softplus()
    y = strict(s.forward, x)
    ds = strict(s.backward, np.ones_like(x))
    strict(sp.forward, x)
    dsp = strict(sp.backward, np.ones_like(x))
    # d sigmoid = sigmoid (1 - sigmoid);  d softplus = sigmoid
    expected_sigmoid = [sigmoid_reference(v) for v in x]
    np.testing.assert_allclose(y, expected_sigmoid, rtol=1e-15)
    np.testing.assert_allclose(dsp, expected_sigmoid, rtol=1e-15)
    np.testing.assert_allclose(ds, [v * (1 - v) for v in expected_sigmoid], rtol=1e-15, atol=1e-17)
