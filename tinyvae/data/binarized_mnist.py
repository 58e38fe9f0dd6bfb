"""Statically binarized MNIST (Larochelle & Murray 2011), read from the .amat files.

Binarizing MNIST means turning each grey level p in [0, 1] into a pixel
that is 1 with probability p. Done afresh every epoch ("dynamic"
binarization) it is a form of data augmentation; done once and frozen
("static" binarization) it gives a fixed dataset whose log-likelihoods can
be compared across papers. The frozen copy everyone compares on is the one
Hugo Larochelle and Iain Murray made for NADE (AISTATS 2011), used, among
many others, by inverse autoregressive flow (IAF, Kingma et al. 2016):
50,000 training, 10,000 validation and 10,000 test images of 28 x 28
black-or-white pixels, no labels.

The three files are plain text, one image per line:

    0 0 1 0 ... 0 1\\n        784 values '0' or '1', single spaces, a newline

so every line is exactly 2 * 784 = 1568 bytes: the k-th value sits at byte
2k of its line, a space (or, after the last value, the newline) at byte
2k + 1. That fixed layout is what makes :func:`read_amat` fast: it views the
whole file as a (lines, 1568) byte matrix and takes every other column, with
no per-line or per-value Python loop, and checks the layout strictly on the
way.

:func:`load_binarized_mnist` finds the files (see
:func:`find_binarized_mnist` for where it looks), checks their SHA-256
checksums, parses them and returns NumPy arrays. Nothing in this module
depends on any particular machine's paths: set ``TINYVAE_DATA`` to a
directory holding the files, or let tinyvae download them into its cache.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .download import CorruptDataError, find_files, verify_files

__all__ = [
    "BINARIZED_MNIST_FILES",
    "BINARIZED_MNIST_MIRRORS",
    "read_amat",
    "find_binarized_mnist",
    "load_binarized_mnist",
]

# The three files, in the order load_binarized_mnist returns them, and their
# SHA-256 checksums (these agree with the checksums published by
# tensorflow/datasets).
BINARIZED_MNIST_FILES = {
    "binarized_mnist_train.amat": "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d",
    "binarized_mnist_valid.amat": "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2",
    "binarized_mnist_test.amat": "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c",
}

# Where the files are downloaded from, tried in order: Hugo Larochelle's
# page, the original distribution. (It is served over plain HTTP; the
# checksum guarantees that what arrives is the original.)
BINARIZED_MNIST_MIRRORS = ("http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/",)

# Folder name under a data root and under the cache.
SUBFOLDER = "binarized-mnist"

# The text layout: PIXELS values per line, each one byte followed by one
# separator byte (a space, or the newline after the last value).
PIXELS = 28 * 28
LINE_BYTES = 2 * PIXELS
ZERO, SPACE, NEWLINE = ord("0"), ord(" "), ord("\n")


def _show_byte(value: int) -> str:
    """A byte as a readable literal for error messages: '2', '\\t', '\\xff'."""
    return repr(bytes([value]))[1:]


def _describe_bad_line(path: Path, buffer: np.ndarray, newlines: np.ndarray, line: int) -> str:
    """Say what is wrong with ``line`` (0-based), whose length is known to be wrong."""
    start = line * LINE_BYTES
    if line < len(newlines):
        length = int(newlines[line]) + 1 - start  # including its newline
        if length == LINE_BYTES + 1 and buffer[start + LINE_BYTES - 1] == ord("\r"):
            hint = " (it ends in '\\r\\n': convert the file to Unix line endings)"
        else:
            hint = ""
        return (
            f"{path}, line {line + 1}: expected {LINE_BYTES} bytes (784 values '0' or '1', "
            f"separated by single spaces, then '\\n'), found {length}{hint}"
        )
    length = len(buffer) - start
    return (
        f"{path}, line {line + 1}: the file ends after {length} bytes of this line without "
        f"its newline; expected {LINE_BYTES} bytes per line. The file is probably truncated."
    )


def read_amat(path: str | os.PathLike) -> np.ndarray:
    """Read a binarized-MNIST ``.amat`` file into a uint8 array of shape (N, 784).

    Each line of the file must be exactly 784 values, each ``0`` or ``1``,
    separated by single spaces and ended by ``\\n`` (1568 bytes). The result
    holds 0s and 1s, one image per row (reshape a row to (28, 28) to see it).

    The whole file is parsed with a few vectorized NumPy operations over its
    bytes; the 78 MB training file takes a fraction of a second.

    Raises
    ------
    CorruptDataError : the file is empty, truncated, or breaks the layout
        anywhere (a line of the wrong length, a separator other than a single
        space, a value other than 0 or 1). The message names the file, the
        first bad line (counting from 1) and what was found there. Partial
        data is never returned.
    """
    path = Path(path)
    raw = path.read_bytes()
    if not raw:
        raise CorruptDataError(
            f"{path}: the file is empty; expected lines of 784 values '0' or '1'"
        )
    # A read-only uint8 view of the bytes: no copy.
    buffer = np.frombuffer(raw, dtype=np.uint8)

    # 1. Line lengths. Every line is LINE_BYTES long exactly when the k-th
    #    newline (counting from 0) sits at byte (k + 1) * LINE_BYTES - 1 and
    #    nothing follows the last one. Lines before the first misplaced
    #    newline are therefore all of the right length.
    newlines = np.flatnonzero(buffer == NEWLINE)
    expected = np.arange(1, len(newlines) + 1) * LINE_BYTES - 1
    misplaced = np.flatnonzero(newlines != expected)
    n_good = int(misplaced[0]) if misplaced.size else len(newlines)
    length_ok = n_good == len(newlines) and n_good * LINE_BYTES == len(buffer)

    # 2. Contents of the lines of the right length, as a (lines, 1568) matrix:
    #    values in the even columns, separators in the odd ones.
    lines = buffer[: n_good * LINE_BYTES].reshape(n_good, LINE_BYTES)
    # Subtracting ord('0') turns '0' and '1' into 0 and 1, and every other
    # byte into 2..255 (uint8 arithmetic wraps around: ' ' - '0' = 32 - 48 =
    # 240), so one comparison, x > 1, finds every bad value. The subtraction
    # also makes the new, writable array that is returned.
    x = lines[:, 0::2] - np.uint8(ZERO)
    bad_value = x > 1
    # The separators after values 1..783 must be spaces; the one after value
    # 784 is the newline, already checked in step 1.
    bad_space = lines[:, 1:-1:2] != SPACE
    bad_line = bad_value.any(axis=1) | bad_space.any(axis=1)

    if bad_line.any():
        # The first bad line comes before any line of the wrong length
        # (only lines of the right length are in the matrix).
        line = int(np.argmax(bad_line))
        value = int(np.argmax(bad_value[line])) if bad_value[line].any() else PIXELS
        space = int(np.argmax(bad_space[line])) if bad_space[line].any() else PIXELS
        if value <= space:  # value k (0-based) is byte 2k, before its separator at 2k + 1
            found = _show_byte(int(lines[line, 2 * value]))
            problem = (
                f"value {value + 1} (byte {2 * value + 1}) should be '0' or '1', found {found}"
            )
        else:
            found = _show_byte(int(lines[line, 2 * space + 1]))
            problem = (
                f"expected a single space after value {space + 1} (byte {2 * space + 2}), "
                f"found {found}"
            )
        raise CorruptDataError(
            f"{path}, line {line + 1}: {problem}. Each line must be 784 values '0' or '1' "
            f"separated by single spaces."
        )
    if not length_ok:
        raise CorruptDataError(_describe_bad_line(path, buffer, newlines, n_good))
    return x


def find_binarized_mnist(data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return the directory holding the three binarized-MNIST files.

    Looks, in order, in ``data_dir``, in ``$TINYVAE_DATA`` (in both cases
    directly or in a ``binarized-mnist/`` subfolder) and in
    ``cache_dir()/binarized-mnist``. If none holds all three files and
    ``download`` is true, the missing ones are downloaded (110 MB in all)
    into ``cache_dir()/binarized-mnist``.

    Raises
    ------
    DataNotFoundError : the files are nowhere to be found and could not be
        (or were not allowed to be) downloaded. The message says where to
        put them.
    """
    return find_files(
        "binarized MNIST",
        BINARIZED_MNIST_FILES,
        BINARIZED_MNIST_MIRRORS,
        SUBFOLDER,
        data_dir,
        download,
        loader="load_binarized_mnist",
    )


def load_binarized_mnist(
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    verify: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Load statically binarized MNIST as ``(x_train, x_valid, x_test)``.

    Each is a uint8 array of shape (N, 784) holding 0s and 1s, one 28 x 28
    image per row (white strokes = 1); N is 50,000, 10,000 and 10,000. There
    are no labels. Papers report test log-likelihoods after choosing
    hyperparameters on ``x_valid``; some then retrain on train + valid.
    The test images are sorted by digit (all the 0s come first): evaluate
    on the whole test set or a random subset of it, never on its first rows.

    ``data_dir`` and ``download`` are passed to :func:`find_binarized_mnist`.
    With ``verify`` (the default) each file's SHA-256 checksum is compared
    with the published one before it is parsed (a few tenths of a second
    for the 110 MB).

    Raises
    ------
    DataNotFoundError : see :func:`find_binarized_mnist`.
    CorruptDataError : a checksum does not match or a file breaks the text
        layout (see :func:`read_amat`).
    """
    directory = find_binarized_mnist(data_dir, download)

    if verify:
        verify_files(directory, BINARIZED_MNIST_FILES, "binarized-MNIST")

    x_train, x_valid, x_test = (read_amat(directory / name) for name in BINARIZED_MNIST_FILES)
    return x_train, x_valid, x_test
