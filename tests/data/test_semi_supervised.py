"""tinyvae.data.semi_supervised: the 50,000 / 10,000 / 10,000 split and balanced labels."""

import os

import numpy as np
import pytest

from tinyvae.data.datasets import Dataset
from tinyvae.data.semi_supervised import labelled_subset, split_mnist


def fake_mnist():
    rng = np.random.default_rng(0)
    return Dataset(
        name="mnist",
        x_train=rng.random((60_000, 4), dtype=np.float32),
        y_train=rng.integers(0, 10, 60_000),
        x_test=rng.random((10_000, 4), dtype=np.float32),
        y_test=rng.integers(0, 10, 10_000),
        image_shape=(2, 2),
    )


def test_the_last_10000_training_images_are_the_validation_set():
    data = fake_mnist()
    split, y_valid = split_mnist(data)
    assert len(split.x_train) == len(split.y_train) == 50_000
    np.testing.assert_array_equal(split.x_valid, data.x_train[50_000:])
    np.testing.assert_array_equal(y_valid, data.y_train[50_000:])
    assert split.x_test is data.x_test
    with pytest.raises(ValueError, match="expected MNIST"):
        split_mnist(Dataset("frey", data.x_test, None, data.x_test, None, (2, 2)))


@pytest.mark.parametrize("n", [100, 600, 1000, 3000])
def test_labels_are_balanced_distinct_and_fixed_by_the_seed(n):
    labels = fake_mnist().y_train[:50_000]
    chosen = labelled_subset(labels, n, seed=3)
    assert len(np.unique(chosen)) == n
    np.testing.assert_array_equal(np.bincount(labels[chosen], minlength=10), [n // 10] * 10)
    np.testing.assert_array_equal(chosen, labelled_subset(labels, n, seed=3))
    assert not np.array_equal(chosen, labelled_subset(labels, n, seed=4))


@pytest.mark.parametrize(
    "labels, n, error, message",
    [
        (np.arange(100) % 10, 105, ValueError, "n_labelled: expected a multiple of 10"),
        (np.arange(100) % 10, 0, ValueError, "n_labelled: expected an integer >= 10"),
        (np.arange(100) % 9, 10, ValueError, r"classes 0..9 are needed; the counts are"),
        (np.arange(100) % 11, 10, ValueError, "classes 0..9"),
        (np.arange(100.0) % 10, 10, TypeError, "labels: expected a 1-D integer array"),
    ],
)
def test_impossible_subsets_are_refused(labels, n, error, message):
    with pytest.raises(error, match=message):
        labelled_subset(labels, n)


@pytest.mark.skipif(not os.environ.get("TINYVAE_DATA"), reason="set TINYVAE_DATA to MNIST")
def test_on_real_mnist():
    from tinyvae.data.datasets import load_dataset

    split, _ = split_mnist(load_dataset("mnist"))
    chosen = labelled_subset(split.y_train, 100)
    np.testing.assert_array_equal(np.bincount(split.y_train[chosen]), [10] * 10)
