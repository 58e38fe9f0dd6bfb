"""tinyvae.data.synthetic_digits: the offline default dataset.

Small sizes keep these fast; rendering the glyph templates (about a second)
happens once per test session.
"""

import numpy as np
import pytest

from tinyvae.data import synthetic_digits
from tinyvae.data.synthetic_digits import load_synthetic_digits, make_synthetic_digits

N = 500


@pytest.fixture(scope="module")
def sample():
    return make_synthetic_digits(N, seed=0)


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path))
    return tmp_path


def test_shapes_and_dtypes(sample):
    images, labels = sample
    assert images.shape == (N, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (N,) and labels.dtype == np.uint8


def test_same_seed_same_bits(sample):
    images, labels = make_synthetic_digits(N, seed=0)
    assert np.array_equal(images, sample[0]) and np.array_equal(labels, sample[1])


def test_different_seeds_differ(sample):
    images, labels = make_synthetic_digits(N, seed=1)
    assert not np.array_equal(labels, sample[1])
    assert np.mean(images != sample[0]) > 0.05


def test_result_does_not_depend_on_chunk_size(sample, monkeypatch):
    monkeypatch.setattr(synthetic_digits, "CHUNK", 64)  # N = 500 -> 8 chunks, a partial last one
    images, labels = make_synthetic_digits(N, seed=0)
    assert np.array_equal(images, sample[0]) and np.array_equal(labels, sample[1])


def test_labels_cover_all_digits_evenly(sample):
    counts = np.bincount(sample[1], minlength=10)
    assert counts.shape == (10,)
    assert counts.min() == N // 10 and counts.max() == N // 10


def test_pixel_range_and_background(sample):
    images = sample[0]
    assert images.max() == 255  # white strokes reach full intensity
    border = np.concatenate(
        [
            images[:, :2].ravel(),
            images[:, -2:].ravel(),
            images[:, :, :2].ravel(),
            images[:, :, -2:].ravel(),
        ]
    )
    assert np.mean(border == 0) > 0.95  # black background at the edges
    assert 0.05 < images.mean() / 255 < 0.3  # about MNIST's 0.13 of ink


def test_images_are_not_blank(sample):
    ink = (sample[0] > 128).sum(axis=(1, 2))
    assert ink.min() >= 15  # every image has a visible digit


def test_digits_are_centred_like_mnist(sample):
    images = sample[0].astype(np.float64)
    index = np.arange(28)
    mass = images.sum(axis=(1, 2))
    rows = (images.sum(axis=2) @ index) / mass
    cols = (images.sum(axis=1) @ index) / mass
    assert np.all(np.abs(rows - 13.5) < 3) and np.all(np.abs(cols - 13.5) < 3)
    # The digit fits in roughly the central 20 x 20 box.
    tall = (images > 128).any(axis=2)
    height = 28 - tall.argmax(axis=1) - tall[:, ::-1].argmax(axis=1)
    assert 17 <= np.median(height) <= 23


def test_images_within_a_class_vary(sample):
    images, labels = sample
    for digit in range(10):
        members = images[labels == digit].astype(np.int16)
        assert len(np.unique(members.reshape(len(members), -1), axis=0)) == len(members)
        spread = np.abs(members - members.mean(axis=0)).mean()
        assert spread > 10  # grey levels, out of 255


def test_classes_differ_on_average(sample):
    images, labels = sample
    means = np.stack([images[labels == d].mean(axis=0) for d in range(10)])
    distances = np.abs(means[:, None] - means[None]).mean(axis=(2, 3))
    off_diagonal = distances[~np.eye(10, dtype=bool)]
    assert off_diagonal.min() > 5


def test_zero_images():
    images, labels = make_synthetic_digits(0)
    assert images.shape == (0, 28, 28) and labels.shape == (0,)


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_bad_n_is_rejected(bad):
    with pytest.raises(ValueError, match="non-negative integer"):
        make_synthetic_digits(bad)


def test_cache_round_trip(private_cache, monkeypatch):
    first = load_synthetic_digits(seed=3, n_train=300, n_test=100)
    files = list(private_cache.glob("*.npz"))
    assert len(files) == 1
    assert "seed3" in files[0].name and "300" in files[0].name and "100" in files[0].name

    def must_not_generate(*args, **kwargs):
        raise AssertionError("the cached arrays should have been used")

    monkeypatch.setattr(synthetic_digits, "make_synthetic_digits", must_not_generate)
    second = load_synthetic_digits(seed=3, n_train=300, n_test=100)
    for a, b in zip(first, second):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    x_train, y_train, x_test, y_test = second
    assert x_train.shape == (300, 28, 28) and x_test.shape == (100, 28, 28)
    assert y_train.shape == (300,) and y_test.shape == (100,)


def test_split_matches_make_synthetic_digits(private_cache):
    x_train, y_train, x_test, y_test = load_synthetic_digits(
        seed=5, n_train=80, n_test=20, cache=False
    )
    images, labels = make_synthetic_digits(100, seed=5)
    assert np.array_equal(np.concatenate([x_train, x_test]), images)
    assert np.array_equal(np.concatenate([y_train, y_test]), labels)
    assert list(private_cache.iterdir()) == []  # cache=False writes nothing


@pytest.mark.parametrize("damage", ["garbage", "truncate", "wrong-shape"])
def test_corrupt_cache_is_regenerated(private_cache, damage):
    good = load_synthetic_digits(seed=4, n_train=200, n_test=50)
    (path,) = private_cache.glob("*.npz")
    if damage == "garbage":
        path.write_bytes(b"this is not a zip file")
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:5000])
    else:
        np.savez(
            path,
            x_train=np.zeros((3, 28, 28), np.uint8),
            y_train=np.zeros(3, np.uint8),
            x_test=np.zeros((1, 28, 28), np.uint8),
            y_test=np.zeros(1, np.uint8),
        )
    with pytest.warns(UserWarning, match="regenerating"):
        again = load_synthetic_digits(seed=4, n_train=200, n_test=50)
    for a, b in zip(good, again):
        assert np.array_equal(a, b)
    # The cache file was rewritten and is good again.
    with np.load(path, allow_pickle=False) as stored:
        assert np.array_equal(stored["x_train"], good[0])


def test_load_dataset_synthetic(monkeypatch):
    from tinyvae.data import datasets, synthetic_digits

    def small(seed):
        return load_synthetic_digits(seed=seed, n_train=50, n_test=20, cache=False)

    monkeypatch.setattr(synthetic_digits, "load_synthetic_digits", small)
    data = datasets.load_dataset("synthetic", seed=2)
    x_train, y_train, _, _ = small(2)
    assert data.name == "synthetic" and data.image_shape == (28, 28)
    assert data.x_train.shape == (50, 784) and data.x_test.shape == (20, 784)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    assert data.x_train.min() >= 0 and data.x_train.max() <= 1
    np.testing.assert_array_equal(data.x_train, x_train.reshape(50, -1).astype(np.float32) / 255)
    np.testing.assert_array_equal(data.y_train, y_train)
