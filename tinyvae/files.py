"""Writing files so that they appear whole or not at all.

Checkpoints, datasets, figures and result files are all written through
``atomic_write``: an interrupted run never leaves half a file behind, and an
older file of the same name survives until the new one is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing so that it appears whole or not at all.

    Yields a file object for a temporary file in the same directory (created
    if needed). When the ``with`` block ends normally the temporary file is
    renamed to ``path`` with ``os.replace``, which is atomic on POSIX and
    Windows; if the block raises, the temporary file is deleted and the
    exception propagates, leaving any previous ``path`` untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp_name, 0o644)  # mkstemp makes owner-only files; data files are ordinary
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_json(path: str | os.PathLike, data) -> None:
    """Write ``data`` as indented JSON, atomically (used for every results file)."""
    with atomic_write(path) as f:
        f.write(json.dumps(data, indent=2).encode())
