"""tinyvae.data.download: where data files are looked for, checksums, downloads.

Mirrors are a web server on 127.0.0.1 serving the test's temporary folder
(the ``web_root`` fixture of conftest.py); no test touches the network.
"""

import hashlib
import socket
import sys
import traceback
from pathlib import Path

import pooch
import pytest

from tinyvae.data.download import (
    CorruptDataError,
    DataNotFoundError,
    cache_dir,
    fetch,
    find_files,
    sha256_of,
    verify_files,
)

CONTENT = b"tinyvae test payload\n" * 1000
GOOD_SHA = hashlib.sha256(CONTENT).hexdigest()

# A dataset of two files, as the loaders describe theirs.
TOY_FILES = {
    "a.bin": hashlib.sha256(b"first file\n").hexdigest(),
    "b.bin": hashlib.sha256(b"second file\n").hexdigest(),
}
TOY_CONTENTS = {"a.bin": b"first file\n", "b.bin": b"second file\n"}


@pytest.fixture(autouse=True)
def isolated_environment(tmp_path, monkeypatch):
    """No test sees the user's data or cache, or writes into them."""
    monkeypatch.delenv("TINYVAE_DATA", raising=False)
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def mirror(tmp_path, web_root):
    """The URL of data.bin on a working mirror."""
    (tmp_path / "mirror").mkdir()
    (tmp_path / "mirror" / "data.bin").write_bytes(CONTENT)
    return web_root + "mirror/data.bin"


@pytest.fixture
def closed_port():
    """The base URL of a server that is not there: connecting is refused, as offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def write_toy(folder, contents=TOY_CONTENTS):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (folder / name).write_bytes(data)


def snapshot(folder):
    """Every file under ``folder`` with its bytes, to check that nothing changed."""
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def find_toy(**kwargs):
    kwargs.setdefault("mirrors", ["http://127.0.0.1:9/never-asked/"])
    return find_files("Toy", TOY_FILES, subfolder="toy", loader="load_toy", **kwargs)


# --- fetch: one file, mirrors tried in turn -------------------------------------


def test_fetch_downloads_and_verifies(tmp_path, mirror):
    target_dir = tmp_path / "cache" / "sub"  # does not exist yet
    path = fetch("data.bin", [mirror], GOOD_SHA, target_dir, progress=False)
    assert path == target_dir / "data.bin"
    assert path.read_bytes() == CONTENT
    assert sorted(p.name for p in target_dir.iterdir()) == ["data.bin"]  # no temporary left


def test_missing_file_on_first_mirror_falls_through_to_second(tmp_path, web_root, mirror):
    urls = [web_root + "nowhere/data.bin", mirror]
    path = fetch("data.bin", urls, GOOD_SHA, tmp_path / "out", progress=False)
    assert path.read_bytes() == CONTENT


def test_checksum_mismatch_raises_and_leaves_nothing(tmp_path, mirror):
    wrong_sha = hashlib.sha256(b"something else").hexdigest()
    target_dir = tmp_path / "out"
    with pytest.raises(DataNotFoundError) as caught:
        fetch("data.bin", [mirror], wrong_sha, target_dir, progress=False)
    message = str(caught.value)
    assert "does not match" in message
    assert wrong_sha in message and GOOD_SHA in message  # expected and found
    assert list(target_dir.iterdir()) == []  # not even a temporary file


def test_wrong_checksum_on_first_mirror_falls_through(tmp_path, web_root, mirror):
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "data.bin").write_bytes(b"corrupted")
    urls = [web_root + "bad/data.bin", mirror]
    path = fetch("data.bin", urls, GOOD_SHA, tmp_path / "out", progress=False)
    assert path.read_bytes() == CONTENT


def test_all_mirrors_failing_gives_a_short_helpful_error(tmp_path, web_root, closed_port):
    urls = [web_root + "nowhere/data.bin", closed_port + "data.bin"]
    target_dir = tmp_path / "out"
    with pytest.raises(DataNotFoundError) as caught:
        fetch("data.bin", urls, GOOD_SHA, target_dir, progress=False)
    error = caught.value
    assert isinstance(error, FileNotFoundError)
    assert error.failures == [
        (urls[0], "the server answered 404 File not found"),
        (urls[1], "could not connect (no network, or the server is down)"),
    ]
    message = str(error)
    assert f"  {urls[0]}: the server answered 404" in message
    assert f"  {urls[1]}: could not connect" in message
    assert str(target_dir) in message
    assert GOOD_SHA in message  # so a hand-downloaded copy can be checked
    assert error.__cause__ is None and error.__context__ is None  # no requests traceback
    assert list(target_dir.iterdir()) == []


def test_existing_good_file_is_not_downloaded_again(tmp_path, closed_port):
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    (target_dir / "data.bin").write_bytes(CONTENT)
    # The only "mirror" is not there: success proves no download happened.
    path = fetch("data.bin", [closed_port + "data.bin"], GOOD_SHA, target_dir, progress=False)
    assert path.read_bytes() == CONTENT
    assert snapshot(target_dir) == {Path("data.bin"): CONTENT}


def test_existing_bad_file_is_replaced(tmp_path, mirror):
    target_dir = tmp_path / "out"
    target_dir.mkdir()
    (target_dir / "data.bin").write_bytes(b"stale")
    path = fetch("data.bin", [mirror], GOOD_SHA, target_dir, progress=False)
    assert snapshot(target_dir) == {Path("data.bin"): CONTENT}
    assert path == target_dir / "data.bin"


def test_fetch_rejects_malformed_arguments(tmp_path, mirror):
    with pytest.raises(TypeError, match="list of mirror URLs"):
        fetch("data.bin", mirror, GOOD_SHA, tmp_path / "out")
    with pytest.raises(ValueError, match="at least one mirror"):
        fetch("data.bin", [], GOOD_SHA, tmp_path / "out")
    with pytest.raises(ValueError, match="64 hexadecimal digits"):
        fetch("data.bin", [mirror], "abc", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sha256_of_agrees_with_hashlib(tmp_path):
    content = bytes(range(256)) * 1000  # several of pooch's read chunks
    (tmp_path / "f").write_bytes(content)
    assert sha256_of(tmp_path / "f") == hashlib.sha256(content).hexdigest()


# --- the cache folder -----------------------------------------------------------


def test_tinyvae_cache_names_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYVAE_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("TINYVAE_CACHE", "")  # empty counts as unset
    assert cache_dir() == pooch.os_cache("tinyvae")


@pytest.mark.skipif(sys.platform != "linux", reason="the per-user cache folder differs by OS")
def test_cache_dir_on_linux_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("TINYVAE_CACHE", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache_dir() == tmp_path / "home" / ".cache" / "tinyvae"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "tinyvae"


# --- find_files: where a dataset is looked for ----------------------------------


def test_lookup_order_explicit_then_tinyvae_data_then_cache(tmp_path, monkeypatch):
    for folder in ("explicit", "env", "cache/toy"):
        write_toy(tmp_path / folder)
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    before = snapshot(tmp_path)

    assert find_toy(data_dir=tmp_path / "explicit") == tmp_path / "explicit"
    assert find_toy() == tmp_path / "env"
    monkeypatch.delenv("TINYVAE_DATA")
    assert find_toy() == tmp_path / "cache" / "toy"
    assert snapshot(tmp_path) == before  # found, not downloaded: nothing written


@pytest.mark.parametrize("subfolder", ["", "toy"])
def test_a_folder_may_hold_the_files_directly_or_in_the_subfolder(tmp_path, monkeypatch, subfolder):
    write_toy(tmp_path / "explicit" / subfolder)
    write_toy(tmp_path / "env" / subfolder)
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_toy(data_dir=tmp_path / "explicit") == tmp_path / "explicit" / subfolder
    assert find_toy() == tmp_path / "env" / subfolder


def test_a_folder_missing_one_file_is_skipped(tmp_path, monkeypatch):
    write_toy(tmp_path / "env", {"a.bin": TOY_CONTENTS["a.bin"]})
    write_toy(tmp_path / "cache" / "toy")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    assert find_toy(download=False) == tmp_path / "cache" / "toy"


def test_an_explicit_folder_without_the_files_is_final(tmp_path, monkeypatch):
    """A data_dir named by the user is final: a typo must not fall back silently."""
    write_toy(tmp_path / "env")
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as caught:
        find_toy(data_dir=tmp_path / "typo")
    message = str(caught.value)
    assert message.startswith(
        f"Toy not found. Looked in:\n  {tmp_path / 'typo'}\n  {tmp_path / 'typo' / 'toy'}\n"
        "That is the folder you named, so tinyvae looked nowhere else.\n"
    )
    assert f"and put them in {tmp_path / 'typo'}\n" in message
    assert not (tmp_path / "typo").exists() and not (tmp_path / "cache").exists()


def test_nothing_found_and_download_false(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "env"))
    with pytest.raises(DataNotFoundError) as caught:
        find_toy(download=False)
    cache = tmp_path / "cache" / "toy"
    assert str(caught.value) == (
        "Toy not found. Looked in:\n"
        f"  {tmp_path / 'env'}\n  {tmp_path / 'env' / 'toy'}\n  {cache}\n"
        "Nothing was downloaded, since download=False.\n"
        "To use Toy offline, download these files from http://127.0.0.1:9/never-asked/\n"
        f"  a.bin  sha256 {TOY_FILES['a.bin']}\n"
        f"  b.bin  sha256 {TOY_FILES['b.bin']}\n"
        f"and put them in {cache}\n"
        "or in a folder of your choice (directly or in its toy/ subfolder), "
        "then point tinyvae at it:\n"
        '  TINYVAE_DATA=/that/folder   or   load_toy(data_dir="/that/folder")'
    )
    assert not (tmp_path / "cache").exists() and not (tmp_path / "env").exists()


def test_a_folder_that_is_both_tinyvae_data_and_the_cache_is_listed_once(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYVAE_DATA", str(tmp_path / "cache"))
    with pytest.raises(DataNotFoundError) as caught:
        find_toy(download=False)
    looked = str(caught.value).split("Nothing was downloaded")[0]
    assert (
        looked
        == f"Toy not found. Looked in:\n  {tmp_path / 'cache'}\n  {tmp_path / 'cache' / 'toy'}\n"
    )


def test_failed_download_says_where_it_looked_and_what_to_do(tmp_path, web_root, closed_port):
    mirrors = [web_root + "empty/", closed_port]
    with pytest.raises(DataNotFoundError) as caught:
        find_toy(mirrors=mirrors)
    error = caught.value
    message = str(error)
    cache = tmp_path / "cache" / "toy"
    assert message.startswith(
        f"Toy not found. Looked in:\n  {cache}\n"
        "Downloading it failed:\n"
        f"  {web_root}empty/a.bin: the server answered 404 File not found\n"
        f"  {closed_port}a.bin: could not connect (no network, or the server is down)\n"
        f"To use Toy offline, download these files from {web_root}empty/\n"
    )
    assert f"and put them in {cache}\n" in message and "TINYVAE_DATA=" in message
    assert len(error.failures) == 2  # one file failing stops the download
    # The message stands alone: no chained pooch/requests traceback under it.
    assert error.__cause__ is None and error.__suppress_context__
    shown = "".join(traceback.format_exception(error))
    assert "During handling" not in shown and "requests" not in shown
    assert list(cache.iterdir()) == []  # no partial or temporary file


def test_download_into_the_cache(tmp_path, web_root, capfd):
    write_toy(tmp_path / "mirror")
    mirrors = [web_root + "empty/", web_root + "mirror/"]  # the first one lacks the files
    cache = tmp_path / "cache" / "toy"
    assert find_toy(mirrors=mirrors) == cache
    assert snapshot(cache) == {Path(name): data for name, data in TOY_CONTENTS.items()}
    verify_files(cache, TOY_FILES, "Toy")
    assert "100%" in capfd.readouterr().err  # the progress bar
    # Now in the cache, the files are found there without asking any mirror.
    assert find_toy(mirrors=["http://127.0.0.1:9/"]) == cache


def test_download_fills_in_a_missing_file_and_replaces_a_corrupt_one(tmp_path, web_root):
    write_toy(tmp_path / "mirror")
    write_toy(tmp_path / "cache" / "toy", {"a.bin": b"damaged"})
    cache = find_toy(mirrors=[web_root + "mirror/"])
    assert snapshot(cache) == {Path(name): data for name, data in TOY_CONTENTS.items()}


# --- verify_files: checksums of files that were found ---------------------------


def test_corrupt_file_is_reported_and_left_alone(tmp_path):
    write_toy(tmp_path / "data", {**TOY_CONTENTS, "b.bin": b"damaged"})
    before = snapshot(tmp_path)
    with pytest.raises(CorruptDataError) as caught:
        verify_files(tmp_path / "data", TOY_FILES, "Toy")
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        f"{tmp_path / 'data' / 'b.bin'} has the wrong checksum:\n"
        f"  expected sha256 {TOY_FILES['b.bin']}\n"
        f"  found    sha256 {hashlib.sha256(b'damaged').hexdigest()}\n"
        "The file is damaged or not the original Toy file. Delete it so that "
        "tinyvae downloads it again, or replace it with a good copy."
    )
    assert snapshot(tmp_path) == before


def test_good_files_pass_verification(tmp_path):
    write_toy(tmp_path / "data")
    verify_files(tmp_path / "data", TOY_FILES, "Toy")
