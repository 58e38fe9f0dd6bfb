"""tinyvae.data.datasets: load_dataset's names, and the fixed Frey Face split.

How each dataset is read through ``load_dataset`` is tested with its file
format, on fake files: tests/data/test_mnist.py, test_frey.py,
test_binarized_mnist.py and test_synthetic_digits.py.
"""

import numpy as np
import pytest

from tinyvae.data.datasets import load_dataset, split_frey


def test_load_dataset_rejects_unknown_names():
    with pytest.raises(
        ValueError, match=r"name: expected one of .*'mnist', 'synthetic'\], got 'cifar'"
    ):
        load_dataset("cifar")


def test_load_dataset_lists_frey_among_the_names():
    with pytest.raises(ValueError, match=r"name: expected one of .*'frey'.*got 'faces'"):
        load_dataset("faces")


def test_split_frey_is_a_fixed_partition():
    faces = np.arange(1965)[:, None, None] * np.ones((1, 28, 20), dtype=np.int64)
    train, test = split_frey(faces)
    assert len(train) == 1769 and len(test) == 196  # the last 10 % (rounded down) is test
    ids_train, ids_test = train[:, 0, 0], test[:, 0, 0]
    assert sorted(np.concatenate([ids_train, ids_test])) == list(range(1965))  # a partition
    order = np.random.default_rng(0).permutation(1965)  # as documented
    np.testing.assert_array_equal(ids_test, order[1769:])
    np.testing.assert_array_equal(split_frey(faces)[1], test)  # the same every time
