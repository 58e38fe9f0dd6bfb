"""tinyvae.data.mnist: IDX parsing, checksums, where the files are looked for.

Everything runs on small fake files written by the tests, except
``test_real_mnist``, which runs only when ``TINYVAE_DATA`` names a directory
holding the real files (directly or in its ``mnist/`` subfolder).
"""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from tinyvae.data import mnist
from tinyvae.data.download import CorruptDataError, DataNotFoundError, sha256_of
from tinyvae.data.mnist import MNIST_FILES, find_mnist, load_mnist, read_idx, write_idx

# Read before the autouse fixture below hides it from the other tests.
REAL_DATA = os.environ.get("TINYVAE_DATA")


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test sees the user's data or cache, or writes into them."""
    monkeypatch.delenv("TINYVAE_DATA", raising=False)
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))


def write_fake_mnist(directory, n_train=12, n_test=5, seed=0):
    """Write four small files in the MNIST layout; return the arrays."""
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": rng.integers(0, 10, n_train, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for name, array in arrays.items():
        write_idx(directory / name, array)
    return arrays


# --- the IDX format -----------------------------------------------------------


@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (0, 28, 28), (2, 1, 3, 1)])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, shape, name):
    array = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    write_idx(tmp_path / name, array)
    back = read_idx(tmp_path / name)
    assert back.dtype == np.uint8 and back.shape == shape
    np.testing.assert_array_equal(back, array)
    assert back.flags.writeable


def test_idx_layout_matches_the_specification(tmp_path):
    write_idx(tmp_path / "a.idx", np.arange(6, dtype=np.uint8).reshape(2, 3))
    raw = (tmp_path / "a.idx").read_bytes()
    assert raw == bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 1, 2, 3, 4, 5])


def test_gzip_is_detected_from_content_not_name(tmp_path):
    array = np.arange(10, dtype=np.uint8)
    write_idx(tmp_path / "a.gz", array)
    (tmp_path / "a.gz").rename(tmp_path / "no-extension")
    np.testing.assert_array_equal(read_idx(tmp_path / "no-extension"), array)


def test_write_idx_rejects_other_dtypes(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        write_idx(tmp_path / "a.idx", np.zeros(3, dtype=np.float32))
    assert not (tmp_path / "a.idx").exists()


def test_truncated_gzip_is_reported(tmp_path):
    write_idx(tmp_path / "a.gz", np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8))
    raw = (tmp_path / "a.gz").read_bytes()
    (tmp_path / "a.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CorruptDataError, match="truncated") as caught:
        read_idx(tmp_path / "a.gz")
    assert str(tmp_path / "a.gz") in str(caught.value)


def test_damaged_gzip_is_reported(tmp_path):
    write_idx(tmp_path / "a.gz", np.zeros(5000, dtype=np.uint8))
    raw = bytearray((tmp_path / "a.gz").read_bytes())
    raw[-6] ^= 0xFF  # flip bits in the CRC/length trailer
    (tmp_path / "a.gz").write_bytes(bytes(raw))
    with pytest.raises(CorruptDataError, match="gzip"):
        read_idx(tmp_path / "a.gz")


def test_wrong_magic_is_reported(tmp_path):
    (tmp_path / "a.idx").write_bytes(bytes([1, 2, 8, 1, 0, 0, 0, 1, 42]))
    with pytest.raises(CorruptDataError, match="magic bytes 00 00.*found 01 02"):
        read_idx(tmp_path / "a.idx")


def test_empty_file_is_reported(tmp_path):
    (tmp_path / "a.idx").write_bytes(b"")
    with pytest.raises(CorruptDataError, match="empty file"):
        read_idx(tmp_path / "a.idx")


def test_unsupported_dtype_is_reported(tmp_path):
    (tmp_path / "a.idx").write_bytes(bytes([0, 0, 0x0D, 1, 0, 0, 0, 1]) + b"\0\0\0\0")
    with pytest.raises(CorruptDataError, match="0x0D.*0x08"):
        read_idx(tmp_path / "a.idx")


@pytest.mark.parametrize("n_data", [9, 11])
def test_wrong_data_length_is_reported(tmp_path, n_data):
    header = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 5])  # promises 2 x 5 = 10 bytes
    (tmp_path / "a.idx.gz").write_bytes(gzip.compress(header + bytes(n_data)))
    with pytest.raises(CorruptDataError, match=rf"\(2, 5\).* 10 data bytes.*holds {n_data}"):
        read_idx(tmp_path / "a.idx.gz")


def test_truncated_header_is_reported(tmp_path):
    (tmp_path / "a.idx").write_bytes(bytes([0, 0, 8, 3, 0, 0, 0, 2]))
    with pytest.raises(CorruptDataError, match="3 dimensions.*16 header bytes.*only 8"):
        read_idx(tmp_path / "a.idx")


# --- loading and checksums ----------------------------------------------------


def test_load_mnist_without_verification_reads_fake_files(tmp_path):
    arrays = write_fake_mnist(tmp_path / "data")
    loaded = load_mnist(tmp_path / "data", download=False, verify=False)
    for array, name in zip(loaded, MNIST_FILES):
        np.testing.assert_array_equal(array, arrays[name])
        assert array.dtype == np.uint8


def test_load_mnist_verify_rejects_wrong_checksum(tmp_path):
    write_fake_mnist(tmp_path / "data")
    with pytest.raises(CorruptDataError) as caught:
        load_mnist(tmp_path / "data", download=False, verify=True)
    message = str(caught.value)
    first = next(iter(MNIST_FILES))
    fake_sha = hashlib.sha256((tmp_path / "data" / first).read_bytes()).hexdigest()
    assert first in message
    assert MNIST_FILES[first] in message and fake_sha in message  # expected and actual
    assert "Delete" in message


def test_load_mnist_rejects_mismatched_counts(tmp_path):
    write_fake_mnist(tmp_path / "data")
    write_idx(tmp_path / "data" / "t10k-labels-idx1-ubyte.gz", np.zeros(4, dtype=np.uint8))
    with pytest.raises(CorruptDataError, match=r"one label per image.*\(5,\).*\(4,\)"):
        load_mnist(tmp_path / "data", download=False, verify=False)


def test_load_mnist_rejects_wrong_image_size(tmp_path):
    write_fake_mnist(tmp_path / "data")
    small_images = np.zeros((12, 20, 20), dtype=np.uint8)
    write_idx(tmp_path / "data" / "train-images-idx3-ubyte.gz", small_images)
    with pytest.raises(CorruptDataError, match=r"\(N, 28, 28\).*\(12, 20, 20\)"):
        load_mnist(tmp_path / "data", download=False, verify=False)


# --- where the files are looked for ---------------------------------------------


def test_explicit_directory_comes_first(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "explicit")
    write_fake_mnist(tmp_path / "env")
    write_fake_mnist(tmp_path / "cache" / "mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_mnist(tmp_path / "explicit", download=False) == tmp_path / "explicit"


@pytest.mark.parametrize("subfolder", ["", "mnist"])
def test_tinyvae_data_with_or_without_mnist_subfolder(tmp_path, monkeypatch, subfolder):
    write_fake_mnist(tmp_path / "env" / subfolder)
    write_fake_mnist(tmp_path / "cache" / "mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_mnist(download=False) == tmp_path / "env" / subfolder


def test_explicit_directory_accepts_mnist_subfolder(tmp_path):
    write_fake_mnist(tmp_path / "root" / "mnist")
    assert find_mnist(tmp_path / "root", download=False) == tmp_path / "root" / "mnist"


def test_cache_is_the_last_resort(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "cache" / "mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "empty"))
    assert find_mnist(download=False) == tmp_path / "cache" / "mnist"


def test_incomplete_directory_is_skipped(tmp_path, monkeypatch):
    write_fake_mnist(tmp_path / "env")
    (tmp_path / "env" / "t10k-labels-idx1-ubyte.gz").unlink()
    write_fake_mnist(tmp_path / "cache" / "mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_mnist(download=False) == tmp_path / "cache" / "mnist"


def test_missing_files_without_download(tmp_path):
    with pytest.raises(DataNotFoundError) as caught:
        find_mnist(download=False)
    message = str(caught.value)
    assert str(tmp_path / "cache" / "mnist") in message  # where to put the files
    assert "TINYVAE_DATA" in message
    for name, sha in MNIST_FILES.items():
        assert name in message and sha in message


def test_unreachable_mirrors(tmp_path, monkeypatch, web_root):
    dead = [web_root + "dead1/", web_root + "dead2/"]
    monkeypatch.setattr(mnist, "MNIST_MIRRORS", tuple(dead))
    with pytest.raises(DataNotFoundError) as caught:
        load_mnist()
    message = str(caught.value)
    assert str(tmp_path / "cache" / "mnist") in message
    assert dead[0] + "train-images-idx3-ubyte.gz" in message
    assert dead[1] + "train-images-idx3-ubyte.gz" in message
    assert "TINYVAE_DATA" in message


def test_download_into_cache_from_a_mirror(tmp_path, monkeypatch, web_root):
    arrays = write_fake_mnist(tmp_path / "mirror")
    checksums = {name: sha256_of(tmp_path / "mirror" / name) for name in arrays}
    monkeypatch.setattr(mnist, "MNIST_FILES", checksums)
    monkeypatch.setattr(mnist, "MNIST_MIRRORS", (web_root + "mirror/",))
    x_train, y_train, x_test, y_test = load_mnist()  # verify=True, against the patched table
    assert sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir()) == sorted(arrays)
    np.testing.assert_array_equal(x_train, arrays["train-images-idx3-ubyte.gz"])
    np.testing.assert_array_equal(y_test, arrays["t10k-labels-idx1-ubyte.gz"])


# --- the real thing -------------------------------------------------------------


def real_mnist_dir():
    if not REAL_DATA:
        return None
    for directory in (Path(REAL_DATA), Path(REAL_DATA) / "mnist"):
        if all((directory / name).is_file() for name in MNIST_FILES):
            return directory
    return None


@pytest.mark.skipif(
    real_mnist_dir() is None, reason="set TINYVAE_DATA to a directory holding the MNIST files"
)
def test_real_mnist():
    x_train, y_train, x_test, y_test = load_mnist(real_mnist_dir(), download=False, verify=True)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert {a.dtype for a in (x_train, y_train, x_test, y_test)} == {np.dtype(np.uint8)}
    train_counts = np.bincount(y_train, minlength=10)
    test_counts = np.bincount(y_test, minlength=10)
    assert train_counts.sum() == 60000 and test_counts.sum() == 10000
    assert train_counts[1] == 6742 and test_counts[1] == 1135  # the published class sizes
    assert train_counts.min() == 5421 and test_counts.min() == 892  # digit 5 is the rarest
    assert x_train.max() == 255 and x_train.min() == 0


# --- through the datasets entry point -------------------------------------------


def test_load_dataset_mnist_gives_flat_float_vectors(tmp_path, monkeypatch):
    from tinyvae.data.datasets import load_dataset

    arrays = write_fake_mnist(tmp_path / "data")
    checksums = {name: sha256_of(tmp_path / "data" / name) for name in arrays}
    monkeypatch.setattr(mnist, "MNIST_FILES", checksums)
    data = load_dataset("mnist", data_dir=tmp_path / "data", download=False)
    assert data.name == "mnist" and data.image_shape == (28, 28)
    assert data.x_train.shape == (12, 784) and data.x_test.shape == (5, 784)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    expected = arrays["train-images-idx3-ubyte.gz"].reshape(12, -1) / 255
    np.testing.assert_allclose(data.x_train, expected, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, arrays["t10k-labels-idx1-ubyte.gz"])


def test_an_explicit_folder_without_the_files_is_an_error(tmp_path, monkeypatch):
    """A data_dir named by the user is final: a typo must not fall back silently."""
    write_dir = tmp_path / "cache" / "mnist"
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))
    write_dir.mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match="the folder you named"):
        find_mnist(tmp_path / "typo", download=True)
