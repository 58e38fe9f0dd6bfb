"""Finding data files on disk, or downloading them, always checked by checksum.

A dataset is a few files, each with its published SHA-256 checksum.
:func:`find_files` looks for all of them in one folder, trying in order

1. the folder the caller names (``data_dir=``, the scripts' ``--data-dir``),
2. the folder named by the environment variable ``TINYVAE_DATA``,
3. the cache, :func:`cache_dir` (``$TINYVAE_CACHE``, else a per-user folder),

each directly or in the dataset's subfolder (``mnist/``, ``frey/``, ...).
Only if none holds them all are they downloaded into the cache.

The downloading itself is done by pooch, the library SciPy and scikit-image
use for the same job: it streams each file into a temporary file next to its
destination, with a progress bar, and moves it into place only once its
checksum matches. A failed or interrupted download therefore never leaves a
half-written or wrong file behind. This module adds the search order, mirrors
tried in turn, and errors that say what to do: :class:`DataNotFoundError`
(with instructions for working offline) and :class:`CorruptDataError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pooch
import requests

__all__ = [
    "DataNotFoundError",
    "CorruptDataError",
    "cache_dir",
    "sha256_of",
    "fetch",
    "find_files",
    "verify_files",
]


class DataNotFoundError(FileNotFoundError):
    """A data file is neither on disk nor obtainable from any mirror.

    ``failures`` lists ``(url, reason)`` for every download that was tried.
    """

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()):
        super().__init__(message)
        self.failures = list(failures)


class CorruptDataError(ValueError):
    """A data file exists but its contents are not what they should be
    (wrong checksum, truncated, or not in the expected format)."""


def cache_dir() -> Path:
    """The folder where tinyvae keeps downloaded and generated data.

    ``$TINYVAE_CACHE`` if set, else the user's cache folder as the operating
    system defines it (``$XDG_CACHE_HOME/tinyvae`` or ``~/.cache/tinyvae`` on
    Linux). The folder is not created here; whoever writes into it does.
    """
    if os.environ.get("TINYVAE_CACHE"):
        return Path(os.environ["TINYVAE_CACHE"]).expanduser()
    return pooch.os_cache("tinyvae")


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of the file at ``path`` (read in chunks)."""
    return pooch.file_hash(str(path), alg="sha256")


def _why(error: Exception) -> str:
    """Why one download failed, in a few words rather than the network library's."""
    if isinstance(error, requests.ConnectionError):
        return "could not connect (no network, or the server is down)"
    if isinstance(error, requests.Timeout):
        return "the server did not answer in time"
    if isinstance(error, requests.HTTPError):
        return f"the server answered {error.response.status_code} {error.response.reason}"
    return str(error)  # pooch's checksum mismatch, or a URL pooch cannot handle


def fetch(
    filename: str,
    urls: Sequence[str],
    sha256: str,
    directory: str | os.PathLike,
    progress: bool = True,
) -> Path:
    """Return the path of ``directory/filename``, downloading it if needed.

    Parameters
    ----------
    filename : name of the file inside ``directory``.
    urls : full URLs of the file on each mirror (http, https or ftp), tried
        in order.
    sha256 : the file's published SHA-256 checksum (64 hex digits).
    directory : where the file lives; created if missing.
    progress : show a progress bar (in bytes) while downloading.

    An existing file with the right checksum is returned as is, without
    touching the network; one with the wrong checksum is replaced by a fresh
    download.

    Raises
    ------
    DataNotFoundError : no mirror delivered a file with the right checksum.
        The message lists each URL with the reason it failed.
    """
    if isinstance(urls, (str, bytes)):
        raise TypeError(
            f"urls must be a list of mirror URLs, got the single string {urls!r}; wrap it in a list"
        )
    if not urls:
        raise ValueError(f"urls must list at least one mirror for {filename!r}, got none")
    sha256 = sha256.lower()
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError(f"sha256 must be 64 hexadecimal digits, got {sha256!r}")
    # Created here, so that an unwritable folder is reported as such and not
    # as a failure of every mirror.
    Path(directory).expanduser().mkdir(parents=True, exist_ok=True)

    failures = []
    for url in urls:
        try:
            path = pooch.retrieve(
                url, f"sha256:{sha256}", fname=filename, path=directory, progressbar=progress
            )
        except (OSError, ValueError) as error:
            # requests' network errors are OSErrors; pooch reports a wrong
            # checksum (and a URL it cannot handle) as a ValueError.
            failures.append((url, _why(error)))
            continue
        return Path(path)

    tried = "".join(f"\n  {url}: {reason}" for url, reason in failures)
    raise DataNotFoundError(
        f"Could not download {filename}:{tried}\n"
        f"To work offline, download it yourself (sha256 {sha256}) and put it in\n"
        f"  {directory}",
        failures,
    )


def find_files(
    title: str,
    files: Mapping[str, str],
    mirrors: Sequence[str],
    subfolder: str,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    loader: str = "load_dataset",
) -> Path:
    """Return the folder holding every file of ``files`` (name -> sha256).

    Looks in ``data_dir`` if given, else in ``$TINYVAE_DATA`` (in both cases
    directly or in ``subfolder``) and then in ``cache_dir()/subfolder``. A
    ``data_dir`` given explicitly is final: if it lacks the files that is an
    error, since falling back elsewhere would hide a typo. If no folder holds
    them and ``download`` is true, they are fetched from ``mirrors`` (base
    URLs ending in "/") into the cache. Only the files' presence is checked
    here; :func:`verify_files` checks their contents.

    Raises
    ------
    DataNotFoundError : the files are nowhere and were not (or could not be)
        downloaded. The message says where tinyvae looked, which files it
        needs, where to get them and how to point tinyvae at them. ``title``
        and ``loader`` (the function the user called) are used in it.
    """
    cache = cache_dir() / subfolder
    explicit = data_dir is not None
    root = data_dir if explicit else os.environ.get("TINYVAE_DATA")
    searched = [Path(root).expanduser(), Path(root).expanduser() / subfolder] if root else []
    if not explicit and cache not in searched:  # TINYVAE_DATA may be the cache itself
        searched.append(cache)
    for folder in searched:
        if all((folder / name).is_file() for name in files):
            return folder

    def not_found(problem: str, failures: Sequence[tuple[str, str]] = ()) -> DataNotFoundError:
        looked = "".join(f"\n  {folder}" for folder in searched)
        width = max(map(len, files))
        listing = "".join(f"\n  {name:<{width}}  sha256 {sha}" for name, sha in files.items())
        what, them = ("this file", "it") if len(files) == 1 else ("these files", "them")
        home = Path(data_dir).expanduser() if explicit else cache  # where the files belong
        return DataNotFoundError(
            f"{title} not found. Looked in:{looked}\n{problem}"
            f"To use {title} offline, download {what} from {mirrors[0]}{listing}\n"
            f"and put {them} in {home}\n"
            f"or in a folder of your choice (directly or in its {subfolder}/ subfolder), "
            "then point tinyvae at it:\n"
            f'  TINYVAE_DATA=/that/folder   or   {loader}(data_dir="/that/folder")',
            failures,
        )

    if explicit:
        raise not_found("That is the folder you named, so tinyvae looked nowhere else.\n")
    if not download:
        raise not_found("Nothing was downloaded, since download=False.\n")
    for name, sha in files.items():
        try:
            fetch(name, [mirror + name for mirror in mirrors], sha, cache)
        except DataNotFoundError as error:
            # One file failing usually means no network: stop rather than repeat it.
            tried = "".join(f"\n  {url}: {reason}" for url, reason in error.failures)
            raise not_found(f"Downloading it failed:{tried}\n", error.failures) from None
    return cache


def verify_files(directory: Path, files: Mapping[str, str], title: str) -> None:
    """Raise ``CorruptDataError`` unless every file in ``directory`` has its sha256.

    Nothing is changed on disk: a damaged file is reported, never deleted.
    """
    for name, expected in files.items():
        actual = sha256_of(directory / name)
        if actual != expected:
            raise CorruptDataError(
                f"{directory / name} has the wrong checksum:\n"
                f"  expected sha256 {expected}\n"
                f"  found    sha256 {actual}\n"
                f"The file is damaged or not the original {title} file. Delete it so that "
                "tinyvae downloads it again, or replace it with a good copy."
            )
