"""tinyvae.files: a file is replaced whole or not at all."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tinyvae.files import _HOST, atomic_write, remove_leftovers


def test_atomic_write_keeps_old_file_on_error(tmp_path):
    path = tmp_path / "file.txt"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write(b"half of the new")
        raise RuntimeError("crash while writing")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.txt"]

    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert Path(path).stat().st_mode & 0o777 == 0o644


def test_a_killed_writer_leaves_a_part_file_that_the_next_write_removes(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"good")
    # a writer killed mid-write: its process is gone, its temporary file is not
    script = (
        "import os, sys; from tinyvae.files import atomic_write\n"
        "with atomic_write(sys.argv[1]) as f:\n"
        "    f.write(b'half'); f.flush(); os._exit(1)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    leftovers = list(tmp_path.glob(".file.bin.*.part"))
    assert len(leftovers) == 1 and path.read_bytes() == b"good"

    # a write in progress in a live process (ours) is left alone
    alive = tmp_path / f".file.bin.{_HOST}.{os.getpid()}.abc.part"
    alive.write_bytes(b"in progress")
    with atomic_write(path) as f:
        f.write(b"new")
    assert path.read_bytes() == b"new"
    assert sorted(p.name for p in tmp_path.iterdir()) == [alive.name, "file.bin"]


def test_the_data_and_the_rename_are_fsynced(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(os.fstat(fd)) or real_fsync(fd))
    with atomic_write(tmp_path / "file.bin") as f:
        f.write(b"data")
    assert len(synced) == 2  # the temporary file, then the folder after the rename
    assert stat.S_ISREG(synced[0].st_mode) and stat.S_ISDIR(synced[1].st_mode)


def test_only_exact_leftovers_of_dead_writers_on_this_machine_are_removed(tmp_path):
    path = tmp_path / "run"
    dead = 2**22 + 12345  # above the usual pid_max: no such process
    kept = [
        f".run.4242.{_HOST}.{dead}.abc.part",  # a temporary file of the file "run.4242"
        f".run.other-host.{dead}.abc.part",  # written on another machine sharing the folder
        f".run.{_HOST}.{os.getpid()}.abc.part",  # a write in progress, here
    ]
    for name in kept:
        (tmp_path / name).write_bytes(b"")
    (tmp_path / f".run.{_HOST}.{dead}.dir.part").mkdir()  # not a file
    leftover = tmp_path / f".run.{_HOST}.{dead}.abc.part"
    leftover.write_bytes(b"")
    assert remove_leftovers(path) == [leftover]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [*kept, f".run.{_HOST}.{dead}.dir.part"]
    )
