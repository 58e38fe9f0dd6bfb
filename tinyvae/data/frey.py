"""The Frey Face dataset, read from Sam Roweis' MATLAB file.

Frey Face is the second dataset of the AEVB paper (Kingma & Welling 2013,
§5, Figures 2 and 4): 1965 grey-level images of Brendan Frey's face, 28 pixels
high and 20 wide, taken from consecutive frames of a short video. With
continuous grey levels and so few images it is the classic test of a VAE
with a Gaussian decoder.

It is distributed as one file, ``frey_rawface.mat``: a MATLAB version 5
MAT-file holding a single variable ``ff``, a uint8 matrix of shape
560 x 1965 (grey levels 8..238). Each *column* is one image, its 560 =
28 x 20 pixels stored row by row, so the images come out as

    ff.T.reshape(-1, 28, 20)        # (1965, 28, 20): image, row, column

Reading MAT-files is a chore we leave to SciPy (``scipy.io.loadmat``), an
optional dependency: ``pip install scipy`` (or ``pip install -e ".[frey]"``
from a clone) installs it. Everything else in tinyvae works without it.

:func:`load_frey` finds the file (see :func:`find_frey` for where it looks),
checks its SHA-256 checksum, parses it with :func:`read_frey` and returns
a NumPy array. Nothing in this module depends on any particular machine's
paths: set ``TINYVAE_DATA`` to a directory holding the file, or let tinyvae
download it into its cache.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .download import CorruptDataError, find_files, verify_files

__all__ = [
    "FREY_FILES",
    "FREY_MIRRORS",
    "FREY_IMAGE_SHAPE",
    "read_frey",
    "find_frey",
    "load_frey",
]

# The one Frey Face file and its SHA-256 checksum (its MD5,
# 5aeb024d42b8a6091f30e5eb18c8a48d, is the one other projects publish for
# the file on Sam Roweis' page).
FREY_FILES = {
    "frey_rawface.mat": "265a83a23adb081755cd3de375509828e690324d1d60f076b8ecebc840d59c64",
}

# Where the file is downloaded from, tried in order: Sam Roweis' data page,
# the original distribution.
FREY_MIRRORS = ("https://cs.nyu.edu/~roweis/data/",)

# Height and width of one image, and the name of the MAT-file variable.
FREY_IMAGE_SHAPE = (28, 20)
FREY_VARIABLE = "ff"

# Folder name under a data root and under the cache.
SUBFOLDER = "frey"

SCIPY_MISSING = (
    "Reading the Frey Face file needs SciPy. Install it with  pip install scipy  "
    '(from a clone of tinyvae:  pip install -e ".[frey]").'
)


def _scipy_io():
    """Import ``scipy.io`` on first use, with an install hint if it is missing.

    SciPy is imported here and not at the top of the module so that
    ``import tinyvae`` and every other dataset keep working without it.
    """
    try:
        import scipy.io
    except ImportError as error:
        raise ImportError(SCIPY_MISSING) from error
    return scipy.io


def read_frey(path: str | os.PathLike) -> np.ndarray:
    """Read a Frey Face MAT-file into a uint8 array of shape (N, 28, 20).

    The file must hold a uint8 variable ``ff`` of shape (560, N), one image
    per column; the real file has N = 1965.

    Raises
    ------
    ImportError : SciPy is not installed (the message says how to install it).
    CorruptDataError : the file is not a MAT-file SciPy can read (truncated,
        damaged, or a version 7.3 HDF5 file), or ``ff`` is missing or has the
        wrong dtype or shape. Partial data is never returned.
    """
    scipy_io = _scipy_io()
    path = Path(path)
    # Read the bytes ourselves, so that an unreadable file raises the usual
    # OSError here; after that, any exception loadmat raises can only come
    # from the bytes themselves. A damaged MAT-file makes loadmat fail in
    # many different ways (MatReadError, OSError, ValueError, IndexError,
    # zlib.error, ...), hence the broad ``except Exception``.
    raw = path.read_bytes()
    try:
        # squeeze_me=False keeps ff two-dimensional even for a single image.
        variables = scipy_io.loadmat(io.BytesIO(raw), squeeze_me=False)
    except Exception as error:
        raise CorruptDataError(
            f"{path}: not a MAT-file SciPy can read, or damaged or truncated "
            f"({type(error).__name__}: {error}). Delete the file and download it again."
        ) from error

    # loadmat adds __header__, __version__ and __globals__ to the variables.
    names = sorted(name for name in variables if not name.startswith("__"))
    if FREY_VARIABLE not in variables:
        raise CorruptDataError(
            f"{path}: expected a variable named {FREY_VARIABLE!r}, "
            f"found {', '.join(map(repr, names)) or 'no variables'}"
        )
    ff = variables[FREY_VARIABLE]
    if not isinstance(ff, np.ndarray) or ff.dtype != np.uint8:
        found = ff.dtype if isinstance(ff, np.ndarray) else type(ff).__name__
        raise CorruptDataError(f"{path}: expected {FREY_VARIABLE!r} of dtype uint8, found {found}")
    n_pixels = FREY_IMAGE_SHAPE[0] * FREY_IMAGE_SHAPE[1]
    if ff.ndim != 2 or ff.shape[0] != n_pixels:
        raise CorruptDataError(
            f"{path}: expected {FREY_VARIABLE!r} of shape ({n_pixels}, N), one "
            f"{FREY_IMAGE_SHAPE[0]} x {FREY_IMAGE_SHAPE[1]} image per column, found {ff.shape}"
        )
    # Column j is image j, its pixels row by row: transpose to one image per
    # row, then split each row of 560 pixels into 28 rows of 20.
    # ascontiguousarray: loadmat returns MATLAB's column-major (Fortran) order.
    return np.ascontiguousarray(ff.T).reshape(-1, *FREY_IMAGE_SHAPE)


def find_frey(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return the directory holding ``frey_rawface.mat``.

    Looks, in order, in ``data_dir``, in ``$TINYVAE_DATA`` (in both cases
    directly or in a ``frey/`` subfolder) and in ``cache_dir()/frey``. If
    none holds the file and ``download`` is true, it is downloaded into
    ``cache_dir()/frey``.

    Raises
    ------
    DataNotFoundError : the file is nowhere to be found and could not be
        (or was not allowed to be) downloaded. The message says where to
        put it.
    """
    return find_files(
        "Frey Face", FREY_FILES, FREY_MIRRORS, SUBFOLDER, data_dir, download, loader="load_frey"
    )


def load_frey(
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    verify: bool = True,
) -> np.ndarray:
    """Load Frey Face as a uint8 array of shape (1965, 28, 20).

    Grey levels run from 8 to 238 (the file uses no others); image ``i`` is
    frame ``i`` of the video, so neighbouring images are nearly identical.
    There is no official train/test split: :func:`tinyvae.datasets.load_dataset`
    makes one.

    ``data_dir`` and ``download`` are passed to :func:`find_frey`. With
    ``verify`` (the default) the file's SHA-256 checksum is compared with the
    published one before it is parsed. SciPy is needed to read the file; its
    absence is reported before anything is looked for or downloaded.

    Raises
    ------
    ImportError : SciPy is not installed (the message says how to install it).
    DataNotFoundError : see :func:`find_frey`.
    CorruptDataError : the checksum does not match or the file cannot be
        parsed (see :func:`read_frey`).
    """
    _scipy_io()  # fail early, before a pointless download
    directory = find_frey(data_dir, download)

    if verify:
        verify_files(directory, FREY_FILES, "Frey Face")

    (name,) = FREY_FILES
    return read_frey(directory / name)
