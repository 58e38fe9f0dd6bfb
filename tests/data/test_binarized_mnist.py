"""tinyvae.data.binarized_mnist: the .amat text layout, checksums, where the files are looked for.

Everything runs on small fake files the tests write by hand, except the
``test_real_*`` tests, which run only when ``TINYVAE_DATA`` names a directory
holding the three real files (directly or in its ``binarized-mnist/``
subfolder). No test touches the network: mirrors are a web server on 127.0.0.1.
"""

import hashlib
import os
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinyvae.data import binarized_mnist
from tinyvae.data.binarized_mnist import (
    BINARIZED_MNIST_FILES,
    find_binarized_mnist,
    load_binarized_mnist,
    read_amat,
)
from tinyvae.data.datasets import load_dataset
from tinyvae.data.download import CorruptDataError, DataNotFoundError, sha256_of

# Read before the autouse fixture below hides it from the other tests.
REAL_DATA = os.environ.get("TINYVAE_DATA")
NAMES = list(BINARIZED_MNIST_FILES)  # train, valid, test
LINE = 1568  # bytes per line: 784 values and 784 separators


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test sees the user's data or cache, or writes into them."""
    monkeypatch.delenv("TINYVAE_DATA", raising=False)
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))


def amat_bytes(images):
    """The .amat text of a 0/1 array, written the slow, obvious way."""
    return "".join(" ".join(str(int(v)) for v in row) + "\n" for row in images).encode()


def random_images(n, seed=0):
    return np.random.default_rng(seed).integers(0, 2, (n, 784), dtype=np.uint8)


def write_fake_binarized_mnist(directory, sizes=(6, 3, 2), seed=0):
    """Write three small .amat files; return their arrays, keyed by file name."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    parts = {}
    for i, (name, n) in enumerate(zip(NAMES, sizes)):
        parts[name] = random_images(n, seed + i)
        (directory / name).write_bytes(amat_bytes(parts[name]))
    return parts


def patch_checksums(monkeypatch, directory):
    """Make the checksum table accept the fake files in ``directory``."""
    table = {name: sha256_of(Path(directory) / name) for name in NAMES}
    monkeypatch.setattr(binarized_mnist, "BINARIZED_MNIST_FILES", table)


def corrupt(tmp_path, raw, offset, replacement):
    """Write ``raw`` with the bytes at ``offset`` replaced; return the path."""
    raw = bytearray(raw)
    raw[offset : offset + len(replacement)] = replacement
    path = tmp_path / "bad.amat"
    path.write_bytes(bytes(raw))
    return path


# --- the text layout --------------------------------------------------------------


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    images=arrays(np.uint8, st.tuples(st.integers(1, 5), st.just(784)), elements=st.integers(0, 1))
)
def test_read_amat_round_trip(tmp_path, images):
    path = tmp_path / "a.amat"
    path.write_bytes(amat_bytes(images))
    back = read_amat(path)
    assert back.dtype == np.uint8 and back.shape == images.shape
    np.testing.assert_array_equal(back, images)
    assert back.flags.writeable and back.flags.c_contiguous


def test_layout_is_the_documented_one(tmp_path):
    # First image: value k is k % 2. Second image: all ones but the last.
    images = np.stack([np.arange(784) % 2, np.r_[np.ones(783), 0]]).astype(np.uint8)
    raw = amat_bytes(images)
    assert (
        len(raw) == 2 * LINE and raw[:8] == b"0 1 0 1 " and raw[LINE - 4 : LINE + 2] == b"0 1\n1 "
    )
    (tmp_path / "a.amat").write_bytes(raw)
    np.testing.assert_array_equal(read_amat(tmp_path / "a.amat"), images)


def test_bad_value_names_file_line_and_value(tmp_path):
    raw = amat_bytes(random_images(3))
    path = corrupt(tmp_path, raw, LINE + 2 * 4, b"2")  # line 2, value 5
    with pytest.raises(CorruptDataError) as caught:
        read_amat(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 2: value 5 (byte 9) should be '0' or '1', found '2'")


def test_bad_separator_is_reported(tmp_path):
    raw = amat_bytes(random_images(3))
    path = corrupt(tmp_path, raw, 2 * LINE + 5, b"\t")  # line 3, after value 3
    with pytest.raises(
        CorruptDataError,
        match=r"line 3: expected a single space after value 3 "
        r"\(byte 6\), found '\\t'",
    ):
        read_amat(path)


def test_first_of_several_bad_lines_is_reported(tmp_path):
    raw = amat_bytes(random_images(5))
    raw = corrupt(tmp_path, raw, 3 * LINE + 10, b"x").read_bytes()  # line 4
    path = corrupt(tmp_path, raw, 1 * LINE + 100, b"7")  # line 2
    with pytest.raises(CorruptDataError, match="line 2: value 51 .* found '7'"):
        read_amat(path)


@pytest.mark.parametrize("n_values", [783, 785])
def test_line_of_wrong_length_is_reported(tmp_path, n_values):
    lines = amat_bytes(random_images(3)).splitlines(keepends=True)
    lines[1] = (" ".join("1" * n_values) + "\n").encode()
    (tmp_path / "a.amat").write_bytes(b"".join(lines))
    with pytest.raises(
        CorruptDataError, match=rf"line 2: expected 1568 bytes .*found {2 * n_values}$"
    ):
        read_amat(tmp_path / "a.amat")


def test_windows_line_endings_are_explained(tmp_path):
    raw = amat_bytes(random_images(2)).replace(b"\n", b"\r\n")
    (tmp_path / "a.amat").write_bytes(raw)
    with pytest.raises(CorruptDataError, match=r"line 1: .*found 1569 .*'\\r\\n'"):
        read_amat(tmp_path / "a.amat")


@pytest.mark.parametrize("cut", [1, 2, LINE - 1, LINE + 1])
def test_truncated_file_is_reported(tmp_path, cut):
    raw = amat_bytes(random_images(4))
    (tmp_path / "a.amat").write_bytes(raw[:-cut])
    bad_line = (len(raw) - cut) // LINE + 1  # the line that is cut off
    with pytest.raises(CorruptDataError, match=rf"line {bad_line}: .*probably truncated"):
        read_amat(tmp_path / "a.amat")


def test_empty_file_is_reported(tmp_path):
    (tmp_path / "a.amat").write_bytes(b"")
    with pytest.raises(CorruptDataError, match="empty"):
        read_amat(tmp_path / "a.amat")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(0, 3 * LINE - 1), byte=st.integers(0, 255))
def test_any_changed_byte_is_caught_on_its_line(tmp_path, offset, byte):
    """Every change of one byte breaks the layout, except 0 <-> 1 in a value,
    and the error names the line holding the changed byte."""
    raw = amat_bytes(random_images(3))
    if byte == raw[offset] or (offset % 2 == 0 and byte in b"01"):
        return  # still a valid file (the same or another 0/1 image)
    path = corrupt(tmp_path, raw, offset, bytes([byte]))
    with pytest.raises(CorruptDataError, match=rf", line {offset // LINE + 1}: "):
        read_amat(path)


# --- loading and checksums --------------------------------------------------------


def test_load_without_verification_reads_fake_files(tmp_path):
    parts = write_fake_binarized_mnist(tmp_path / "data")
    loaded = load_binarized_mnist(tmp_path / "data", download=False, verify=False)
    assert [a.shape for a in loaded] == [(6, 784), (3, 784), (2, 784)]  # train, valid, test
    for array, name in zip(loaded, NAMES):
        assert array.dtype == np.uint8
        np.testing.assert_array_equal(array, parts[name])


def test_load_verify_rejects_wrong_checksum(tmp_path):
    write_fake_binarized_mnist(tmp_path / "data")
    with pytest.raises(CorruptDataError) as caught:
        load_binarized_mnist(tmp_path / "data", download=False, verify=True)
    message = str(caught.value)
    first = NAMES[0]
    fake_sha = hashlib.sha256((tmp_path / "data" / first).read_bytes()).hexdigest()
    assert str(tmp_path / "data" / first) in message
    assert BINARIZED_MNIST_FILES[first] in message and fake_sha in message  # expected and actual
    assert "Delete" in message


def test_load_verify_accepts_matching_checksums(tmp_path, monkeypatch):
    parts = write_fake_binarized_mnist(tmp_path / "data")
    patch_checksums(monkeypatch, tmp_path / "data")
    loaded = load_binarized_mnist(tmp_path / "data", download=False)
    np.testing.assert_array_equal(loaded[2], parts[NAMES[2]])


def test_load_reports_a_corrupt_file_by_name(tmp_path):
    write_fake_binarized_mnist(tmp_path / "data")
    valid = tmp_path / "data" / NAMES[1]
    valid.write_bytes(valid.read_bytes()[:-100])
    with pytest.raises(CorruptDataError, match=rf"{NAMES[1]}, line 3: .*truncated"):
        load_binarized_mnist(tmp_path / "data", download=False, verify=False)


# --- where the files are looked for -------------------------------------------------


def test_explicit_directory_comes_first(tmp_path, monkeypatch):
    for place in ("explicit", "env", "cache/binarized-mnist"):
        write_fake_binarized_mnist(tmp_path / place)
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_binarized_mnist(tmp_path / "explicit", download=False) == tmp_path / "explicit"


@pytest.mark.parametrize("subfolder", ["", "binarized-mnist"])
def test_tinyvae_data_with_or_without_subfolder(tmp_path, monkeypatch, subfolder):
    write_fake_binarized_mnist(tmp_path / "env" / subfolder)
    write_fake_binarized_mnist(tmp_path / "cache" / "binarized-mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_binarized_mnist(download=False) == tmp_path / "env" / subfolder


def test_explicit_directory_accepts_subfolder(tmp_path):
    write_fake_binarized_mnist(tmp_path / "root" / "binarized-mnist")
    found = find_binarized_mnist(tmp_path / "root", download=False)
    assert found == tmp_path / "root" / "binarized-mnist"


def test_cache_is_the_last_resort(tmp_path, monkeypatch):
    write_fake_binarized_mnist(tmp_path / "cache" / "binarized-mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "empty"))
    found = find_binarized_mnist(download=False)
    assert found == tmp_path / "cache" / "binarized-mnist"


def test_incomplete_directory_is_skipped(tmp_path, monkeypatch):
    write_fake_binarized_mnist(tmp_path / "env")
    (tmp_path / "env" / NAMES[1]).unlink()
    write_fake_binarized_mnist(tmp_path / "cache" / "binarized-mnist")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_binarized_mnist(download=False) == tmp_path / "cache" / "binarized-mnist"


def test_missing_files_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as caught:
        find_binarized_mnist(download=False)
    message = str(caught.value)
    assert f"in {tmp_path / 'cache' / 'binarized-mnist'}\n" in message  # where to put them
    for looked in ("env", "env/binarized-mnist"):
        assert str(tmp_path / looked) in message  # where we looked
    assert "TINYVAE_DATA" in message and "download=False" in message
    for name, sha in BINARIZED_MNIST_FILES.items():
        assert name in message and sha in message
    assert not (tmp_path / "cache").exists()  # nothing created


def test_unreachable_mirrors(tmp_path, monkeypatch, web_root):
    dead = [web_root + "dead1/", web_root + "dead2/"]
    monkeypatch.setattr(binarized_mnist, "BINARIZED_MNIST_MIRRORS", tuple(dead))
    with pytest.raises(DataNotFoundError) as caught:
        load_binarized_mnist()
    message = str(caught.value)
    assert str(tmp_path / "cache" / "binarized-mnist") in message
    assert dead[0] + NAMES[0] in message and dead[1] + NAMES[0] in message
    assert "TINYVAE_DATA" in message


def test_download_into_cache_from_a_mirror(tmp_path, monkeypatch, web_root):
    parts = write_fake_binarized_mnist(tmp_path / "mirror")
    patch_checksums(monkeypatch, tmp_path / "mirror")
    mirror = web_root + "mirror/"
    monkeypatch.setattr(binarized_mnist, "BINARIZED_MNIST_MIRRORS", (mirror,))
    x_train, x_valid, x_test = load_binarized_mnist()  # verify=True, against the patched table
    cached = tmp_path / "cache" / "binarized-mnist"
    assert sorted(p.name for p in cached.iterdir()) == sorted(NAMES)
    np.testing.assert_array_equal(x_valid, parts[NAMES[1]])


# --- through the datasets entry point ---------------------------------------------


def test_load_dataset_binarized_mnist(tmp_path, monkeypatch):
    parts = write_fake_binarized_mnist(tmp_path / "data")
    patch_checksums(monkeypatch, tmp_path / "data")
    data = load_dataset("binarized_mnist", data_dir=tmp_path / "data", download=False)
    assert data.name == "binarized_mnist" and data.image_shape == (28, 28)
    assert data.x_train.shape == (6, 784) and data.x_valid.shape == (3, 784)
    assert data.x_test.shape == (2, 784)
    assert data.y_train is None and data.y_test is None
    for x, name in zip((data.x_train, data.x_valid, data.x_test), NAMES):
        assert x.dtype == np.float32
        np.testing.assert_array_equal(x, parts[name])  # exactly 0.0 and 1.0, not / 255


# --- the real thing ---------------------------------------------------------------


def real_binarized_dir():
    if not REAL_DATA:
        return None
    for directory in (Path(REAL_DATA), Path(REAL_DATA) / "binarized-mnist"):
        if all((directory / name).is_file() for name in NAMES):
            return directory
    return None


needs_real_data = pytest.mark.skipif(
    real_binarized_dir() is None,
    reason="set TINYVAE_DATA to a directory holding the three binarized-MNIST .amat files",
)


@needs_real_data
def test_real_binarized_mnist():
    x_train, x_valid, x_test = load_binarized_mnist(real_binarized_dir(), download=False)
    assert x_train.shape == (50000, 784)
    assert x_valid.shape == (10000, 784) and x_test.shape == (10000, 784)
    for x in (x_train, x_valid, x_test):
        assert x.dtype == np.uint8
        assert set(np.unique(x)) == {0, 1}
        assert 0.12 < x.mean() < 0.14  # about 13 % of MNIST's pixels are ink
    # The corner pixels are background in every image.
    assert x_train.reshape(-1, 28, 28)[:, [0, 0, -1, -1], [0, -1, 0, -1]].max() == 0


@needs_real_data
def test_real_training_file_parses_fast():
    path = real_binarized_dir() / NAMES[0]
    path.read_bytes()  # warm the page cache: time the parsing, not the disk
    start = time.perf_counter()
    x = read_amat(path)
    seconds = time.perf_counter() - start
    assert x.shape == (50000, 784)
    # Vectorized parsing takes well under a second; a Python loop over
    # lines or values would take tens of seconds.
    assert seconds < 5, f"parsing the 78 MB training file took {seconds:.1f} s"


@needs_real_data
def test_real_binarized_mnist_through_load_dataset():
    data = load_dataset("binarized_mnist", data_dir=REAL_DATA, download=False)
    assert data.x_train.shape == (50000, 784) and data.x_valid.shape == (10000, 784)
    assert data.x_test.shape == (10000, 784) and data.image_shape == (28, 28)
    assert data.x_train.dtype == np.float32 and data.x_valid.dtype == np.float32
    assert data.y_train is None and data.y_test is None
    assert set(np.unique(data.x_test)) == {0.0, 1.0}


def test_an_explicit_folder_without_the_files_is_an_error(tmp_path, monkeypatch):
    """A data_dir named by the user is final: a typo must not fall back silently."""
    write_dir = tmp_path / "cache" / "binarized-mnist"
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))
    write_dir.mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match="the folder you named"):
        find_binarized_mnist(tmp_path / "typo", download=True)
