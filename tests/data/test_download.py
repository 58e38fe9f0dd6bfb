"""tinyvae.data.download: checksummed fetching from mirrors, without the network.

Mirrors are simulated with ``file://`` URLs pointing into a temporary folder.
"""

import hashlib

import pytest

from tinyvae.data import download
from tinyvae.data.download import DataNotFoundError, cache_dir, fetch, sha256_of

CONTENT = b"tinyvae test payload\n" * 1000
GOOD_SHA = hashlib.sha256(CONTENT).hexdigest()


@pytest.fixture
def mirror(tmp_path):
    """A folder serving data.bin, and its file:// URL."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    (folder / "data.bin").write_bytes(CONTENT)
    return (folder / "data.bin").as_uri()


def missing_url(tmp_path):
    return (tmp_path / "nowhere" / "data.bin").as_uri()


def test_fetch_downloads_and_verifies(tmp_path, mirror):
    target_dir = tmp_path / "cache" / "sub"  # does not exist yet
    path = fetch("data.bin", [mirror], GOOD_SHA, target_dir, progress=False)
    assert path == target_dir / "data.bin"
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in target_dir.iterdir()) == ["data.bin"]  # no temporary left


def test_bad_first_mirror_falls_through_to_second(tmp_path, mirror):
    urls = [missing_url(tmp_path), mirror]
    path = fetch("data.bin", urls, GOOD_SHA, tmp_path / "out", progress=False)
    assert path.read_bytes() == CONTENT


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path, mirror):
    wrong_sha = hashlib.sha256(b"something else").hexdigest()
    target_dir = tmp_path / "out"
    with pytest.raises(DataNotFoundError) as caught:
        fetch("data.bin", [mirror], wrong_sha, target_dir, progress=False)
    message = str(caught.value)
    assert "checksum mismatch" in message
    assert wrong_sha in message and GOOD_SHA in message  # expected and found
    assert list(target_dir.iterdir()) == []


def test_wrong_checksum_on_first_mirror_falls_through(tmp_path, mirror):
    bad = tmp_path / "bad" / "data.bin"
    bad.parent.mkdir()
    bad.write_bytes(b"corrupted")
    path = fetch("data.bin", [bad.as_uri(), mirror], GOOD_SHA, tmp_path / "out", progress=False)
    assert path.read_bytes() == CONTENT


def test_all_mirrors_failing_gives_a_helpful_error(tmp_path):
    urls = [missing_url(tmp_path), (tmp_path / "other" / "data.bin").as_uri()]
    target_dir = tmp_path / "out"
    with pytest.raises(DataNotFoundError) as caught:
        fetch("data.bin", urls, GOOD_SHA, target_dir, progress=False)
    error = caught.value
    assert isinstance(error, FileNotFoundError)
    assert [url for url, _ in error.failures] == urls
    message = str(error)
    for url in urls:
        assert url in message
    assert str(target_dir) in message and "TINYVAE_DATA" in message
    assert GOOD_SHA in message  # so a hand-downloaded copy can be checked


def test_existing_good_file_is_not_downloaded_again(tmp_path):
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    (target_dir / "data.bin").write_bytes(CONTENT)
    # The only "mirror" does not exist: success proves no download happened.
    path = fetch("data.bin", [missing_url(tmp_path)], GOOD_SHA, target_dir, progress=False)
    assert path.read_bytes() == CONTENT


def test_existing_bad_file_is_replaced(tmp_path, mirror):
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    (target_dir / "data.bin").write_bytes(b"stale")
    path = fetch("data.bin", [mirror], GOOD_SHA, target_dir, progress=False)
    assert path.read_bytes() == CONTENT


def test_fetch_rejects_malformed_arguments(tmp_path, mirror):
    with pytest.raises(TypeError, match="list of mirror URLs"):
        fetch("data.bin", mirror, GOOD_SHA, tmp_path)
    with pytest.raises(ValueError, match="at least one mirror"):
        fetch("data.bin", [], GOOD_SHA, tmp_path)
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        fetch("data.bin", [mirror], "abc", tmp_path)


def test_sha256_of_reads_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(download, "CHUNK_SIZE", 7)  # many chunks, a partial last one
    path = tmp_path / "f"
    path.write_bytes(CONTENT)
    assert sha256_of(path) == GOOD_SHA


def test_cache_dir_precedence(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYVAE_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "tinyvae"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tinyvae"
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
