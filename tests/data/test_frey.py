"""tinyvae.data.frey: reading the MAT-file, checksums, where the file is looked for.

Everything runs on small fake files written by the tests with
``scipy.io.savemat`` (those tests are skipped without SciPy), except the
``test_real_*`` tests, which run only when ``TINYVAE_DATA`` names a directory
holding the real ``frey_rawface.mat`` (directly or in its ``frey/``
subfolder). No test touches the network: mirrors are a web server on 127.0.0.1.
"""

import hashlib
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from tinyvae.data import frey
from tinyvae.data.datasets import Dataset, load_dataset
from tinyvae.data.download import CorruptDataError, DataNotFoundError, sha256_of
from tinyvae.data.frey import FREY_FILES, find_frey, load_frey, read_frey

try:
    import scipy.io as sio
except ImportError:  # the tests that need SciPy are skipped below
    sio = None

needs_scipy = pytest.mark.skipif(
    sio is None, reason='SciPy is not installed (pip install -e ".[frey]")'
)

# Read before the autouse fixture below hides it from the other tests.
REAL_DATA = os.environ.get("TINYVAE_DATA")
FILENAME = "frey_rawface.mat"


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test sees the user's data or cache, or writes into them."""
    monkeypatch.delenv("TINYVAE_DATA", raising=False)
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))


def write_fake_frey(directory, n=7, seed=0):
    """Write a small file in the Frey Face layout; return its faces as (n, 28, 20)."""
    faces = np.random.default_rng(seed).integers(0, 256, (n, 28, 20), dtype=np.uint8)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    # The file's layout: one image per column, its pixels row by row.
    sio.savemat(directory / FILENAME, {"ff": faces.reshape(n, 560).T})
    return faces


def patch_checksum(monkeypatch, directory):
    """Make the checksum table accept the fake file in ``directory``."""
    monkeypatch.setattr(frey, "FREY_FILES", {FILENAME: sha256_of(Path(directory) / FILENAME)})


# --- reading the MAT-file -------------------------------------------------------


@needs_scipy
@pytest.mark.parametrize("n", [1, 7])
def test_read_frey_round_trip(tmp_path, n):
    faces = write_fake_frey(tmp_path, n=n)
    back = read_frey(tmp_path / FILENAME)
    assert back.dtype == np.uint8 and back.shape == (n, 28, 20)
    np.testing.assert_array_equal(back, faces)
    assert back.flags.c_contiguous and back.flags.writeable


@needs_scipy
def test_columns_are_images_stored_row_by_row(tmp_path):
    # Image 1 has one bright pixel at row 27, column 0: pixel 27 * 20 + 0 of
    # its column. Image 0 has one at row 0, column 19: pixel 19.
    ff = np.zeros((560, 2), dtype=np.uint8)
    ff[540, 1] = 200
    ff[19, 0] = 100
    sio.savemat(tmp_path / FILENAME, {"ff": ff})
    faces = read_frey(tmp_path / FILENAME)
    assert faces[1, 27, 0] == 200 and faces[0, 0, 19] == 100
    assert np.count_nonzero(faces) == 2


@needs_scipy
def test_wrong_variable_name_is_reported(tmp_path):
    sio.savemat(tmp_path / FILENAME, {"faces": np.zeros((560, 3), dtype=np.uint8)})
    with pytest.raises(CorruptDataError, match="named 'ff', found 'faces'") as caught:
        read_frey(tmp_path / FILENAME)
    assert str(tmp_path / FILENAME) in str(caught.value)


@needs_scipy
def test_wrong_dtype_is_reported(tmp_path):
    sio.savemat(tmp_path / FILENAME, {"ff": np.zeros((560, 3), dtype=np.float64)})
    with pytest.raises(CorruptDataError, match="'ff' of dtype uint8, found float64"):
        read_frey(tmp_path / FILENAME)


@needs_scipy
@pytest.mark.parametrize("shape", [(784, 3), (3, 560), (28, 20)])
def test_wrong_shape_is_reported(tmp_path, shape):
    sio.savemat(tmp_path / FILENAME, {"ff": np.zeros(shape, dtype=np.uint8)})
    with pytest.raises(CorruptDataError, match=rf"\(560, N\).*found \({shape[0]}, {shape[1]}\)"):
        read_frey(tmp_path / FILENAME)


@needs_scipy
@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, -1])
def test_truncated_file_is_reported(tmp_path, keep):
    write_fake_frey(tmp_path, n=20)
    raw = (tmp_path / FILENAME).read_bytes()
    cut = int(keep * len(raw)) if isinstance(keep, float) else keep % len(raw)
    (tmp_path / FILENAME).write_bytes(raw[:cut])
    with pytest.raises(CorruptDataError, match="damaged or truncated") as caught:
        read_frey(tmp_path / FILENAME)
    assert str(tmp_path / FILENAME) in str(caught.value)


@needs_scipy
def test_header_without_variables_is_reported(tmp_path):
    # The first 128 bytes of a MAT-file are its header: a valid file with
    # no variables at all.
    write_fake_frey(tmp_path)
    raw = (tmp_path / FILENAME).read_bytes()
    (tmp_path / FILENAME).write_bytes(raw[:128])
    with pytest.raises(CorruptDataError, match="named 'ff', found no variables"):
        read_frey(tmp_path / FILENAME)


@needs_scipy
def test_not_a_mat_file_is_reported(tmp_path):
    (tmp_path / FILENAME).write_bytes(b"<html>404 Not Found</html>\n" * 10)
    with pytest.raises(CorruptDataError, match="not a MAT-file"):
        read_frey(tmp_path / FILENAME)


# --- SciPy is optional ----------------------------------------------------------


@pytest.fixture
def without_scipy(monkeypatch):
    """Make ``import scipy.io`` fail, as if SciPy were not installed.

    A None entry in sys.modules makes the import system raise
    ModuleNotFoundError, whether or not SciPy was imported before.
    """
    monkeypatch.setitem(sys.modules, "scipy", None)
    monkeypatch.setitem(sys.modules, "scipy.io", None)


def test_missing_scipy_says_how_to_install_it(tmp_path, without_scipy):
    (tmp_path / FILENAME).write_bytes(b"never read")
    with pytest.raises(ImportError) as caught:
        read_frey(tmp_path / FILENAME)
    message = str(caught.value)
    assert "pip install scipy" in message and 'pip install -e ".[frey]"' in message
    assert isinstance(caught.value.__cause__, ImportError)  # the original error is kept


def test_missing_scipy_is_reported_before_any_download(
    tmp_path, monkeypatch, without_scipy, web_root
):
    monkeypatch.setattr(frey, "FREY_MIRRORS", (web_root + "dead/",))
    with pytest.raises(ImportError, match=r"pip install scipy"):
        load_frey()  # download=True, nothing on disk: would otherwise try the mirror
    assert not (tmp_path / "cache").exists()


# --- loading and checksums ------------------------------------------------------


@needs_scipy
def test_load_frey_without_verification_reads_fake_file(tmp_path):
    faces = write_fake_frey(tmp_path / "data")
    loaded = load_frey(tmp_path / "data", download=False, verify=False)
    assert loaded.dtype == np.uint8 and loaded.shape == (7, 28, 20)
    np.testing.assert_array_equal(loaded, faces)


@needs_scipy
def test_load_frey_verify_rejects_wrong_checksum(tmp_path):
    write_fake_frey(tmp_path / "data")
    with pytest.raises(CorruptDataError) as caught:
        load_frey(tmp_path / "data", download=False, verify=True)
    message = str(caught.value)
    fake_sha = hashlib.sha256((tmp_path / "data" / FILENAME).read_bytes()).hexdigest()
    assert str(tmp_path / "data" / FILENAME) in message
    assert FREY_FILES[FILENAME] in message and fake_sha in message  # expected and actual
    assert "Delete" in message


@needs_scipy
def test_load_frey_verify_accepts_matching_checksum(tmp_path, monkeypatch):
    faces = write_fake_frey(tmp_path / "data")
    patch_checksum(monkeypatch, tmp_path / "data")
    np.testing.assert_array_equal(load_frey(tmp_path / "data", download=False), faces)


# --- where the file is looked for -----------------------------------------------
# find_frey only checks that the file exists, so these tests need no SciPy.


def touch(directory):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / FILENAME).write_bytes(b"placeholder")


def test_explicit_directory_comes_first(tmp_path, monkeypatch):
    for place in ("explicit", "env", "cache/frey"):
        touch(tmp_path / place)
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_frey(tmp_path / "explicit", download=False) == tmp_path / "explicit"


@pytest.mark.parametrize("subfolder", ["", "frey"])
def test_tinyvae_data_with_or_without_frey_subfolder(tmp_path, monkeypatch, subfolder):
    touch(tmp_path / "env" / subfolder)
    touch(tmp_path / "cache" / "frey")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_frey(download=False) == tmp_path / "env" / subfolder


def test_explicit_directory_accepts_frey_subfolder(tmp_path):
    touch(tmp_path / "root" / "frey")
    assert find_frey(tmp_path / "root", download=False) == tmp_path / "root" / "frey"


def test_cache_is_the_last_resort(tmp_path, monkeypatch):
    touch(tmp_path / "cache" / "frey")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "empty"))
    assert find_frey(download=False) == tmp_path / "cache" / "frey"


def test_missing_file_without_download(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as caught:
        find_frey(download=False)
    message = str(caught.value)
    assert f"in {tmp_path / 'cache' / 'frey'}\n" in message  # where to put the file
    for looked in ("env", "env/frey"):
        assert str(tmp_path / looked) in message  # where we looked
    assert "TINYVAE_DATA" in message and "download=False" in message
    assert FILENAME in message and FREY_FILES[FILENAME] in message
    assert not (tmp_path / "cache").exists()  # nothing created


def test_unreachable_mirrors(tmp_path, monkeypatch, web_root):
    dead = [web_root + "dead1/", web_root + "dead2/"]
    monkeypatch.setattr(frey, "FREY_MIRRORS", tuple(dead))
    with pytest.raises(DataNotFoundError) as caught:
        find_frey()
    message = str(caught.value)
    assert str(tmp_path / "cache" / "frey") in message
    assert dead[0] + FILENAME in message and dead[1] + FILENAME in message
    assert "TINYVAE_DATA" in message
    assert len(caught.value.failures) == 2


@needs_scipy
def test_download_into_cache_from_a_mirror(tmp_path, monkeypatch, web_root):
    faces = write_fake_frey(tmp_path / "mirror")
    patch_checksum(monkeypatch, tmp_path / "mirror")
    monkeypatch.setattr(frey, "FREY_MIRRORS", (web_root + "mirror/",))
    loaded = load_frey()  # verify=True, against the patched table
    assert [p.name for p in (tmp_path / "cache" / "frey").iterdir()] == [FILENAME]
    np.testing.assert_array_equal(loaded, faces)


# --- through the datasets entry point -------------------------------------------


@needs_scipy
def test_load_dataset_frey_gives_flat_float_vectors(tmp_path, monkeypatch):
    faces = write_fake_frey(tmp_path / "data", n=20)
    patch_checksum(monkeypatch, tmp_path / "data")
    data = load_dataset("frey", data_dir=tmp_path / "data", download=False)
    assert isinstance(data, Dataset) and data.name == "frey"
    assert data.image_shape == (28, 20)
    assert data.x_train.shape == (18, 560) and data.x_test.shape == (2, 560)
    assert data.x_train.dtype == np.float32 and data.x_test.dtype == np.float32
    assert data.y_train is None and data.y_test is None and data.x_valid is None
    order = np.random.default_rng(0).permutation(20)
    expected = faces.reshape(20, 560)[order] / 255
    np.testing.assert_allclose(np.concatenate([data.x_train, data.x_test]), expected, rtol=1e-6)


@needs_scipy
def test_load_dataset_seed_does_not_change_the_frey_split(tmp_path, monkeypatch):
    write_fake_frey(tmp_path / "data", n=30)
    patch_checksum(monkeypatch, tmp_path / "data")
    a = load_dataset("frey", data_dir=tmp_path / "data", seed=0, download=False)
    b = load_dataset("frey", data_dir=tmp_path / "data", seed=123, download=False)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    np.testing.assert_array_equal(a.x_train, b.x_train)


# --- the real thing -------------------------------------------------------------


def real_frey_dir():
    if not REAL_DATA:
        return None
    for directory in (Path(REAL_DATA), Path(REAL_DATA) / "frey"):
        if (directory / FILENAME).is_file():
            return directory
    return None


needs_real_frey = pytest.mark.skipif(
    real_frey_dir() is None or sio is None,
    reason="set TINYVAE_DATA to a directory holding frey_rawface.mat, and install SciPy",
)


@needs_real_frey
def test_real_frey():
    faces = load_frey(real_frey_dir(), download=False, verify=True)
    assert faces.shape == (1965, 28, 20) and faces.dtype == np.uint8
    assert faces.min() == 8 and faces.max() == 238  # the grey levels the file uses
    # Upright faces: the forehead (top middle) is brighter than the bottom
    # left corner in 97 % of the frames (in 61 % if the images were flipped
    # upside down).
    forehead = faces[:, 2:6, 6:14].mean(axis=(1, 2))
    corner = faces[:, 24:, :3].mean(axis=(1, 2))
    assert np.mean(forehead > corner) > 0.9


@needs_real_frey
def test_real_frey_through_load_dataset():
    data = load_dataset("frey", data_dir=REAL_DATA, download=False)
    assert data.x_train.shape == (1769, 560) and data.x_test.shape == (196, 560)
    assert data.x_train.dtype == np.float32 and data.image_shape == (28, 20)
    assert data.y_train is None and data.y_test is None and data.x_valid is None
    both = np.concatenate([data.x_train, data.x_test])
    assert both.min() == np.float32(8 / 255) and both.max() == np.float32(238 / 255)


def test_an_explicit_folder_without_the_files_is_an_error(tmp_path, monkeypatch):
    """A data_dir named by the user is final: a typo must not fall back silently."""
    write_dir = tmp_path / "cache" / "frey"
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))
    write_dir.mkdir(parents=True)
    with pytest.raises(DataNotFoundError, match="the folder you named"):
        find_frey(tmp_path / "typo", download=True)
