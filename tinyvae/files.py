"""Writing files so that they appear whole or not at all.

Checkpoints, datasets, figures and result files are all written through
``atomic_write``: an interrupted run never leaves half a file behind, and an
older file of the same name survives until the new one is complete.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
import socket
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

_HOST = socket.gethostname().replace(".", "_")  # names the machine in temporary names


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """Open ``path`` for binary writing so that it appears whole or not at all.

    Yields a file object for a temporary file in the same directory (created
    if needed), named ``.<name>.<host>.<pid>.<random>.part``. When the ``with`` block
    ends normally the data is flushed and fsynced, the temporary file is
    renamed to ``path`` with ``os.replace`` (atomic on POSIX and Windows) and
    the directory is fsynced, so that after a power cut the file is either
    the old one or the whole new one. If the block raises, the temporary
    file is deleted and the exception propagates, leaving any previous
    ``path`` untouched. A process killed mid-write cannot delete its
    temporary file; the next write of the same ``path`` does.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.{_HOST}.{os.getpid()}.", suffix=".part"
    )
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())  # the data is on disk before the name points at it
        os.chmod(tmp_name, 0o644)  # mkstemp makes owner-only files; data files are ordinary
        os.replace(tmp_name, path)
        _fsync_directory(path.parent)  # and the rename itself
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def check_writable_folder(folder: str | os.PathLike) -> None:
    """Prove that files can be written into ``folder``, or raise ``OSError`` saying why.

    Run it before long work whose results go there. The folders it has to
    create for the test (and a scratch file) are removed again, so a check
    that passes, or fails, leaves the disk as it was; writing later makes them.
    """
    folder = Path(folder).absolute()
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    target = missing[0] if missing else folder
    try:
        target.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target):
            pass
    finally:
        for created in missing:  # deepest first
            with contextlib.suppress(OSError):
                created.rmdir()


def remove_leftovers(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writers of ``path`` left; returns them.

    A leftover is removed only if its name is exactly that of a temporary
    file of ``path`` written on this machine by a process that no longer
    exists, so a write in progress, another machine's write to a shared
    folder, or another file's temporary file is never touched. The cleanup
    is best effort: what cannot be removed stays (no reader opens it). On
    systems other than POSIX, where a process cannot be asked about safely,
    nothing is removed.
    """
    path = Path(path)
    removed = []
    if os.name != "posix" or not path.parent.is_dir():
        return removed
    pattern = re.compile(rf"\.{re.escape(path.name)}\.{re.escape(_HOST)}\.(\d+)\.\w+\.part")
    for leftover in path.parent.glob(f".{glob.escape(path.name)}.*.part"):
        match = pattern.fullmatch(leftover.name)
        if match is None or _process_exists(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if stat.S_ISREG(leftover.lstat().st_mode):
                leftover.unlink()
                removed.append(leftover)
    return removed


def _process_exists(pid: int) -> bool:
    """True if a process with this id exists (POSIX: signal 0 checks without sending)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, and belongs to someone else
        return True
    return True


def _fsync_directory(directory: Path) -> None:
    """Make a rename inside ``directory`` durable (a no-op where directories cannot be opened)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json(path: str | os.PathLike, data) -> None:
    """Write ``data`` as indented JSON, atomically (used for every results file)."""
    with atomic_write(path) as f:
        f.write(json.dumps(data, indent=2).encode())
