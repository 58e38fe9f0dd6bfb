"""MNIST handwritten digits, read from the original IDX files.

MNIST (LeCun, Cortes & Burges) is the dataset of the AEVB paper's first
experiments: 60,000 training and 10,000 test images of handwritten digits,
28 x 28 grey levels 0..255 (white strokes on black), with labels 0..9.

It is distributed as four gzip-compressed files in the IDX format, a tiny
binary layout worth reading once:

    bytes 0-1   0x00 0x00                   (magic: always two zero bytes)
    byte  2     0x08                        (element type: unsigned byte)
    byte  3     ndim                        (3 for images, 1 for labels)
    then        ndim sizes, each a big-endian uint32  (e.g. 60000, 28, 28)
    then        prod(sizes) data bytes, row-major

:func:`load_mnist` finds the files (see :func:`find_mnist` for where it
looks), checks their SHA-256 checksums, parses them with :func:`read_idx`
and returns NumPy arrays. Nothing in this module depends on any particular
machine's paths: set ``TINYVAE_DATA`` to a directory holding the files, or
let tinyvae download them into its cache.
"""

from __future__ import annotations

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from ..files import atomic_write
from .download import CorruptDataError, find_files, verify_files

__all__ = [
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "read_idx",
    "write_idx",
    "find_mnist",
    "load_mnist",
]

# The four MNIST files and their SHA-256 checksums (these agree with the
# checksums published by tensorflow/datasets).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

# Mirrors of the original files, tried in order. (Yann LeCun's own page no
# longer serves them reliably.)
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# IDX element type code for unsigned bytes, the only type MNIST uses.
IDX_UBYTE = 0x08
GZIP_MAGIC = b"\x1f\x8b"


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (gzip-compressed or plain) into a uint8 array.

    Compression is detected from the file's first bytes, not its name.
    The returned array has the shape stored in the header.

    Raises
    ------
    CorruptDataError : the file is truncated, not gzip/IDX, uses an element
        type other than unsigned byte, or holds more or fewer data bytes than
        its header promises. Partial data is never returned.
    """
    path = Path(path)
    with open(path, "rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    try:
        if compressed:
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise CorruptDataError(
            f"{path}: the gzip stream is damaged or truncated ({error}). "
            f"Delete the file and download it again."
        ) from error

    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise CorruptDataError(
            f"{path}: not an IDX file: expected the magic bytes 00 00 at the start, "
            f"found {raw[:2].hex(' ') or 'an empty file'}"
        )
    dtype_code, ndim = raw[2], raw[3]
    if dtype_code != IDX_UBYTE:
        raise CorruptDataError(
            f"{path}: unsupported IDX element type 0x{dtype_code:02X}; "
            f"tinyvae reads only 0x{IDX_UBYTE:02X} (unsigned byte), the type MNIST uses"
        )
    if ndim == 0:
        raise CorruptDataError(f"{path}: IDX header declares 0 dimensions, expected at least 1")

    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise CorruptDataError(
            f"{path}: IDX header declares {ndim} dimensions, which needs {header_size} "
            f"header bytes, but the file holds only {len(raw)} bytes"
        )
    shape = tuple(int(size) for size in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    expected = math.prod(shape)
    found = len(raw) - header_size
    if found != expected:
        raise CorruptDataError(
            f"{path}: IDX header promises shape {shape}, i.e. {expected} data bytes, "
            f"but the file holds {found}"
        )
    # frombuffer views the immutable bytes object; copy to return a normal,
    # writable array that owns its memory.
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape).copy()


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write a uint8 array as an IDX file, gzip-compressed if ``path`` ends in ``.gz``.

    The inverse of :func:`read_idx`. The file is written atomically (to a
    temporary file, then renamed).
    """
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"write_idx writes uint8 arrays only, got dtype {array.dtype}")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"an IDX array must have 1 to 255 dimensions, got {array.ndim}")

    header = bytes([0, 0, IDX_UBYTE, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + np.ascontiguousarray(array).tobytes()
    if str(path).endswith(".gz"):
        payload = gzip.compress(payload, mtime=0)  # mtime=0: same array, same bytes
    with atomic_write(path) as f:
        f.write(payload)


def find_mnist(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return the directory holding the four MNIST files.

    Looks, in order, in ``data_dir``, in ``$TINYVAE_DATA`` (in both cases
    directly or in an ``mnist/`` subfolder) and in ``cache_dir()/mnist``.
    If none holds all four files and ``download`` is true, the missing ones
    are downloaded into ``cache_dir()/mnist``.

    Raises
    ------
    DataNotFoundError : the files are nowhere to be found and could not be
        (or were not allowed to be) downloaded. The message says where to
        put them.
    """
    return find_files(
        "MNIST", MNIST_FILES, MNIST_MIRRORS, "mnist", data_dir, download, loader="load_mnist"
    )


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Load MNIST as ``(x_train, y_train, x_test, y_test)``.

    ``x_*`` are uint8 arrays of shape (N, 28, 28), grey levels 0..255 with
    white strokes on black; ``y_*`` are uint8 arrays of shape (N,) with the
    digit 0..9. N is 60,000 for training and 10,000 for test.

    ``data_dir`` and ``download`` are passed to :func:`find_mnist`. With
    ``verify`` (the default) each file's SHA-256 checksum is compared with
    the published one before it is parsed (about a tenth of a second).

    Raises
    ------
    DataNotFoundError : see :func:`find_mnist`.
    CorruptDataError : a checksum does not match, a file cannot be parsed,
        or images and labels do not fit together.
    """
    directory = find_mnist(data_dir, download)

    if verify:
        verify_files(directory, MNIST_FILES, "MNIST")

    arrays = []
    for split in ("train", "t10k"):
        image_path = directory / f"{split}-images-idx3-ubyte.gz"
        label_path = directory / f"{split}-labels-idx1-ubyte.gz"
        images, labels = read_idx(image_path), read_idx(label_path)
        if images.ndim != 3 or images.shape[1:] != (28, 28):
            raise CorruptDataError(
                f"{image_path}: expected images of shape (N, 28, 28), found {images.shape}"
            )
        if labels.shape != (len(images),):
            raise CorruptDataError(
                f"{label_path}: expected one label per image, i.e. shape ({len(images)},), "
                f"found {labels.shape}"
            )
        if labels.size and labels.max() > 9:
            raise CorruptDataError(
                f"{label_path}: expected digits 0..9, found label {labels.max()}"
            )
        arrays += [images, labels]
    x_train, y_train, x_test, y_test = arrays
    return x_train, y_train, x_test, y_test
