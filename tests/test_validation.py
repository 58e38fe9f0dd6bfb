"""tinyvae.validation: each validator accepts exactly what it promises and names the argument."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.validation import (
    check_bool,
    check_choice,
    check_dtype,
    check_float,
    check_input,
    check_int,
    check_optional_int,
    check_rng,
    check_sizes,
)

not_numbers = st.one_of(st.text(max_size=3), st.none(), st.lists(st.integers(), max_size=2))


@given(value=st.integers(-1000, 1000), minimum=st.integers(-5, 5))
def test_check_int_accepts_integers_at_or_above_the_minimum(value, minimum):
    if value >= minimum:
        assert check_int(value, "n", minimum) == value
        assert check_int(np.int64(value), "n", minimum) == value
    else:
        with pytest.raises(ValueError, match=f"n: expected an integer >= {minimum}, got {value}"):
            check_int(value, "n", minimum)


@given(value=st.one_of(st.floats(), st.booleans(), not_numbers))
def test_check_int_refuses_floats_bools_and_other_things_by_name(value):
    with pytest.raises(TypeError, match="size: expected an integer"):
        check_int(value, "size")


def test_check_int_with_a_maximum_and_optional():
    assert check_int(3, "k", 1, 3) == 3
    with pytest.raises(ValueError, match=r"k: expected an integer in \[1, 3\], got 4"):
        check_int(4, "k", 1, 3)
    assert check_optional_int(None, "max_steps") is None
    with pytest.raises(ValueError, match="max_steps: "):
        check_optional_int(0, "max_steps")


@given(
    value=st.floats(allow_nan=True, allow_infinity=True),
    low=st.floats(-10, 10),
    width=st.floats(0, 10),
    low_open=st.booleans(),
    high_open=st.booleans(),
)
def test_check_float_accepts_exactly_the_interval(value, low, width, low_open, high_open):
    high = low + width
    inside = (
        math.isfinite(value)
        and (value > low if low_open else value >= low)
        and (value < high if high_open else value <= high)
    )
    if inside:
        assert check_float(value, "lr", low, high, low_open, high_open) == value
    else:
        with pytest.raises(ValueError, match="lr: expected a finite number"):
            check_float(value, "lr", low, high, low_open, high_open)


@given(value=st.one_of(st.booleans(), not_numbers))
def test_check_float_refuses_what_is_not_a_real_number(value):
    with pytest.raises(TypeError, match="beta1: expected a finite number"):
        check_float(value, "beta1", 0, 1)


def test_check_float_says_the_bounds_it_wanted():
    with pytest.raises(ValueError, match=r"beta2: expected a finite number >= 0 and < 1, got 1.0"):
        check_float(1, "beta2", 0, 1, high_open=True)
    with pytest.raises(ValueError, match=r"eps: expected a finite number > 0, got 0.0"):
        check_float(0, "eps", 0, low_open=True)


def test_the_other_validators():
    assert check_bool(np.bool_(True), "flag") is True
    with pytest.raises(TypeError, match="flag: expected True or False, got 1"):
        check_bool(1, "flag")
    assert check_choice("tanh", "activation", ["relu", "tanh"]) == "tanh"
    with pytest.raises(ValueError, match=r"activation: expected one of \['relu', 'tanh'\]"):
        check_choice("Tanh", "activation", ["relu", "tanh"])
    assert check_sizes([3, np.int32(4)], "hidden") == (3, 4)
    with pytest.raises(ValueError, match=r"hidden\[1\]: expected an integer >= 1, got 0"):
        check_sizes((3, 0), "hidden")
    assert check_dtype("float64") == np.float64
    for dtype in (np.int16, np.float16, None, "junk"):
        with pytest.raises(TypeError, match="dtype: expected np.float32 or np.float64"):
            check_dtype(dtype)
    with pytest.raises(TypeError, match=r"fit: rng: expected a numpy.random.Generator.*got 7"):
        check_rng(7, "fit")
    x = np.zeros((2, 3), np.float32)
    assert check_input(x, "x", ndim=2, last_dim=3, dtype=np.float32) is x
    with pytest.raises(ValueError, match="x: contains NaN or infinity"):
        check_input(x + np.inf, "x")
