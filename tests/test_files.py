"""tinyvae.files: a file is replaced whole or not at all."""

from pathlib import Path

import pytest

from tinyvae.files import atomic_write


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
