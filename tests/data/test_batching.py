"""tinyvae.data.batching: epochs of minibatches, and dynamic binarization."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinyvae.data.batching import batches, binarize

sizes = st.integers(min_value=0, max_value=200)
batch_sizes = st.integers(min_value=1, max_value=64)


def rows_of(n):
    """n distinct rows: row i is [i, 10 * i]."""
    return np.stack([np.arange(n), 10 * np.arange(n)], axis=1)


@given(n=sizes, batch_size=batch_sizes, shuffle=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_every_row_exactly_once(n, batch_size, shuffle, seed):
    x = rows_of(n)
    seen = list(batches(x, batch_size, np.random.default_rng(seed), shuffle=shuffle))
    assert all(1 <= len(b) <= batch_size for b in seen)
    assert all(len(b) == batch_size for b in seen[:-1])  # only the last may be short
    together = np.concatenate(seen) if seen else np.empty((0, 2), dtype=x.dtype)
    assert sorted(together[:, 0].tolist()) == list(range(n))
    if not shuffle:
        assert np.array_equal(together, x)


@given(n=sizes, batch_size=batch_sizes, seed=st.integers(0, 2**32 - 1))
def test_drop_last(n, batch_size, seed):
    seen = list(batches(rows_of(n), batch_size, np.random.default_rng(seed), drop_last=True))
    assert len(seen) == n // batch_size
    assert all(len(b) == batch_size for b in seen)
    rows = np.concatenate(seen)[:, 0] if seen else np.empty(0)
    assert len(set(rows.tolist())) == len(rows) == batch_size * (n // batch_size)


@given(n=st.integers(1, 200), batch_size=batch_sizes, seed=st.integers(0, 2**32 - 1))
def test_labels_stay_aligned(n, batch_size, seed):
    x = rows_of(n)
    labels = 10 * np.arange(n)  # equal to column 1 of x
    for xb, yb in batches(x, batch_size, np.random.default_rng(seed), labels=labels):
        assert np.array_equal(xb[:, 1], yb)


def test_same_seed_same_order_different_seed_different_order():
    x = rows_of(100)

    def order(seed):
        return np.concatenate(list(batches(x, 7, np.random.default_rng(seed))))[:, 0]

    assert np.array_equal(order(3), order(3))
    assert not np.array_equal(order(3), order(4))
    assert not np.array_equal(order(3), np.arange(100))  # it really shuffles


def test_successive_epochs_use_fresh_permutations():
    x, rng = rows_of(50), np.random.default_rng(0)
    first = np.concatenate(list(batches(x, 10, rng)))
    second = np.concatenate(list(batches(x, 10, rng)))
    assert not np.array_equal(first, second)


def test_works_on_images_and_keeps_trailing_axes():
    x = np.zeros((10, 28, 28), dtype=np.float32)
    shapes = [b.shape for b in batches(x, 4, shuffle=False)]
    assert shapes == [(4, 28, 28), (4, 28, 28), (2, 28, 28)]


@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True])
def test_bad_batch_size(batch_size):
    with pytest.raises((TypeError, ValueError), match="batch_size: expected an integer >= 1"):
        batches(rows_of(10), batch_size, np.random.default_rng(0))


def test_errors_are_raised_at_call_time():
    with pytest.raises(TypeError, match="shuffle=True needs rng"):
        batches(rows_of(10), 3)  # no iteration needed to see the error
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        batches(rows_of(10), 3, rng=42)
    with pytest.raises(ValueError, match=r"one entry per row of x \(10\).*\(9,\)"):
        batches(rows_of(10), 3, np.random.default_rng(0), labels=np.zeros(9))


# --- binarize -------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binarize_values_dtype_and_mean(dtype):
    rng = np.random.default_rng(0)
    p = rng.random((200, 784)).astype(dtype)
    b = binarize(p, np.random.default_rng(1))
    assert b.dtype == dtype and b.shape == p.shape
    assert set(np.unique(b).tolist()) <= {0.0, 1.0}
    # Overall mean: 156,800 Bernoulli draws, standard error below 0.0013.
    assert abs(b.mean() - p.mean()) < 0.006
    # Per-pixel probability: bins of equal p have empirical frequency ~ p.
    low, high = p < 0.2, p > 0.8
    assert abs(b[low].mean() - p[low].mean()) < 0.01
    assert abs(b[high].mean() - p[high].mean()) < 0.01


def test_binarize_extremes_are_deterministic():
    x = np.array([[0.0, 1.0, 0.0, 1.0]], dtype=np.float32)
    assert np.array_equal(binarize(x, np.random.default_rng(0)), x)


def test_binarize_same_seed_same_bits():
    x = np.random.default_rng(0).random((10, 20))
    first = binarize(x, np.random.default_rng(5))
    assert np.array_equal(first, binarize(x, np.random.default_rng(5)))


@pytest.mark.parametrize(
    "x, error, message",
    [
        (np.array([0.5, 1.5]), ValueError, r"\[0, 1\].*0.5 to 1.5"),
        (np.array([-0.1, 0.5]), ValueError, r"\[0, 1\]"),
        (np.array([np.nan, 0.5]), ValueError, "NaN"),
        (np.array([0, 255], dtype=np.uint8), TypeError, "divide by 255"),
    ],
)
def test_binarize_rejects_bad_input(x, error, message):
    with pytest.raises(error, match=message):
        binarize(x, np.random.default_rng(0))


def test_binarize_requires_a_generator():
    with pytest.raises(TypeError, match="rng: expected a numpy.random.Generator"):
        binarize(np.zeros(3), 0)
