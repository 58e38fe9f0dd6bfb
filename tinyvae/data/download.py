"""Getting data files onto disk safely: checksums, a cache directory, mirrors.

Every dataset tinyvae loads from the internet goes through :func:`fetch`. The
rules it follows are the ones a careful person would follow by hand:

1. If the file is already where it belongs and its SHA-256 checksum is the
   published one, use it. Nothing is downloaded twice.
2. Otherwise try each mirror in turn. The bytes are streamed into a temporary
   file next to the destination, hashed on the way, and only renamed into
   place (an atomic ``os.replace``) once the checksum matches. A crash or a
   bad mirror therefore never leaves a half-written or wrong file behind.
3. If every mirror fails, raise :class:`DataNotFoundError` saying what went
   wrong with each URL and where to put the file by hand for offline use.

The same "write to a temporary file, then rename" idea is used for every
file tinyvae writes (:mod:`tinyvae.files`).

Files are cached under :func:`cache_dir`; the environment variable
``TINYVAE_CACHE`` moves the cache, and ``TINYVAE_DATA`` names a directory of
data files you downloaded yourself (the dataset loaders look there first).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from ..files import atomic_write

__all__ = [
    "DataNotFoundError",
    "CorruptDataError",
    "cache_dir",
    "sha256_of",
    "fetch",
]

# Bytes read or written per step when hashing or downloading: large enough to
# be fast, small enough that a 50 MB file never has to sit in memory at once.
CHUNK_SIZE = 1 << 20

# Seconds to wait for a mirror to answer before giving up on it.
TIMEOUT_SECONDS = 60


class DataNotFoundError(FileNotFoundError):
    """A data file is neither on disk nor obtainable from any mirror.

    ``failures`` lists ``(url, reason)`` for every URL that was tried, so that
    a caller fetching several files can write one message covering them all.
    """

    def __init__(self, message: str, failures: Sequence[tuple[str, str]] = ()):
        super().__init__(message)
        self.failures = list(failures)


class CorruptDataError(ValueError):
    """A data file exists but its contents are not what they should be
    (wrong checksum, truncated, or not in the expected format)."""


def cache_dir() -> Path:
    """The directory where tinyvae keeps downloaded and generated data.

    ``$TINYVAE_CACHE`` if set, else ``$XDG_CACHE_HOME/tinyvae``, else
    ``~/.cache/tinyvae``. The directory is not created here; whoever writes
    into it creates it.
    """
    if os.environ.get("TINYVAE_CACHE"):
        return Path(os.environ["TINYVAE_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "tinyvae"
    return Path.home() / ".cache" / "tinyvae"


def sha256_of(path: str | os.PathLike) -> str:
    """Hex SHA-256 digest of the file at ``path``, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_SIZE):
            digest.update(chunk)
    return digest.hexdigest()


def _download(url: str, destination: Path, sha256: str, progress: bool) -> None:
    """Stream ``url`` into ``destination``, hashing on the way.

    The file is only put in place if its checksum equals ``sha256``;
    otherwise :class:`CorruptDataError` is raised and nothing is left behind.
    Network failures surface as ``OSError`` (``urllib.error.URLError`` is one)
    or ``http.client.HTTPException``.
    """
    digest = hashlib.sha256()
    with (
        urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response,
        atomic_write(destination) as out,
        tqdm(
            total=int(response.headers.get("Content-Length") or 0) or None,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=destination.name,
            disable=not progress,
        ) as bar,
    ):
        while chunk := response.read(CHUNK_SIZE):
            digest.update(chunk)
            out.write(chunk)
            bar.update(len(chunk))
        if digest.hexdigest() != sha256:
            raise CorruptDataError(
                f"checksum mismatch: expected sha256 {sha256}, got {digest.hexdigest()}"
            )


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
    urls : full URLs of the file on each mirror, tried in order. Any scheme
        ``urllib`` understands works, including ``file://`` (used by tests).
    sha256 : the file's published SHA-256 checksum (64 hex digits).
    directory : where the file lives; created if missing.
    progress : show a tqdm progress bar (in bytes) while downloading.

    An existing file with the right checksum is returned as is; one with the
    wrong checksum is replaced by a fresh download.

    Raises
    ------
    DataNotFoundError : no mirror delivered a file with the right checksum.
        The message lists each URL with the reason it failed, and where to
        put the file for offline use.
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

    directory = Path(directory).expanduser()
    target = directory / filename
    if target.is_file() and sha256_of(target) == sha256:
        return target
    # Created here, so that an unwritable directory is reported as such and
    # not as a failure of every mirror.
    directory.mkdir(parents=True, exist_ok=True)

    failures = []
    for url in urls:
        try:
            _download(url, target, sha256, progress)
        except (OSError, ValueError, http.client.HTTPException) as error:
            # OSError covers unreachable hosts, HTTP errors and timeouts;
            # ValueError covers malformed URLs and our own checksum mismatch.
            failures.append((url, str(error) or type(error).__name__))
            continue
        return target

    tried = "\n".join(f"  {url}\n    -> {reason}" for url, reason in failures)
    raise DataNotFoundError(
        f"Could not download {filename}. Tried:\n{tried}\n"
        f"To work offline, download {filename} yourself (sha256 {sha256}) and put it in\n"
        f"  {directory}\n"
        f"or in a directory named by the TINYVAE_DATA environment variable.",
        failures,
    )


def find_files(
    title, files, mirrors, subfolder, data_dir=None, download=True, loader="load_dataset"
):
    """Return the folder holding every file of ``files`` (name -> sha256).

    Looks, in order, in ``data_dir``, in ``$TINYVAE_DATA`` (in both cases
    directly or in ``subfolder``) and in ``cache_dir()/subfolder``. A
    ``data_dir`` given explicitly is final: if it lacks the files that is an
    error, since falling back elsewhere would hide a typo. If no folder holds
    them and ``download`` is true, they are fetched into the cache.

    Raises ``DataNotFoundError`` with a message that says where to put the
    files for offline use.
    """
    roots = [Path(root).expanduser() for root in (data_dir, os.environ.get("TINYVAE_DATA")) if root]
    searched = [folder for root in roots for folder in (root, root / subfolder)]
    searched.append(cache_dir() / subfolder)

    def holds(folder):
        return all((folder / name).is_file() for name in files)

    def instructions(folder):
        listing = "\n".join(f"  {name}  (sha256 {sha})" for name, sha in files.items())
        what = "this file" if len(files) == 1 else f"these {len(files)} files"
        return (
            f"To use {title} offline, put {what}:\n{listing}\n(from {mirrors[0]})\n"
            f"in {folder}\n"
            f"or in a directory of your choice (directly or in its {subfolder}/ subfolder) "
            f"and\npoint the TINYVAE_DATA environment variable, or {loader}(data_dir=...), "
            "at it."
        )

    if data_dir is not None and not any(holds(folder) for folder in searched[:2]):
        raise DataNotFoundError(
            f"{data_dir} (and its {subfolder}/ subfolder) holds no "
            f"{title} files.\n" + instructions(Path(data_dir).expanduser())
        )
    for folder in searched:
        if holds(folder):
            return folder

    target = cache_dir() / subfolder
    if not download:
        looked = "\n".join(f"  {folder}" for folder in searched)
        raise DataNotFoundError(
            f"{title} not found. Looked for {', '.join(files)} in:\n{looked}\n"
            "and download=False, so nothing was downloaded.\n" + instructions(target)
        )
    for name, sha in files.items():
        try:
            fetch(name, [mirror + name for mirror in mirrors], sha, target)
        except DataNotFoundError as error:
            # one file failing usually means no network: stop rather than repeat it
            tried = "\n".join(f"  {url}\n    -> {reason}" for url, reason in error.failures)
            raise DataNotFoundError(
                f"Could not download {title}. Tried:\n{tried}\n" + instructions(target),
                error.failures,
            ) from error
    return target


def verify_files(directory, files, title):
    """Raise ``CorruptDataError`` unless every file in ``directory`` has its sha256."""
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
