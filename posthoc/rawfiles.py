"""The raw data files: one record each (path in the data folder, SHA-256, where to download
it), the data folder, and the check that every file a dataset needs is there, whole.

The raw files are read from a data folder (``data_dir``, else ``$POSTHOC_DATA``, else a
per-user cache folder), verified against the SHA-256 sums kept here, and downloaded when
missing and the network allows.
"""

from __future__ import annotations

import hashlib
import io
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .atomic import atomic_bytes
from .paths import user_folder


@dataclass(frozen=True)
class RawFile:
    """One raw file: its ``path`` in the data folder, its SHA-256, and its ``source``: a URL,
    or ``(url, member, ...)`` for a file inside a zip archive (nested archives in turn)."""

    path: str
    sha256: str
    source: tuple[str, ...]


_UCI = "https://archive.ics.uci.edu/ml/machine-learning-databases/"
_BANK_ZIP = "https://archive.ics.uci.edu/static/public/222/bank+marketing.zip"
#: Every raw file a dataset reads, by path.
RAW_FILES: dict[str, RawFile] = {f.path: f for f in (
    RawFile("adult/adult.data",
            "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
            (_UCI + "adult/adult.data",)),
    RawFile("adult/adult.names",
            "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",
            (_UCI + "adult/adult.names",)),
    RawFile("adult/adult.test",
            "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
            (_UCI + "adult/adult.test",)),
    RawFile("bank/bank-additional-full.csv",
            "74adfc578bf77a7ff4bb1ba4a9f8709d9e3c6907342959c2c8416847e0afb4d8",
            (_BANK_ZIP, "bank-additional.zip", "bank-additional/bank-additional-full.csv")),
    RawFile("bank/bank-additional-names.txt",
            "10045462a4c026f858dffa159370c4270510230c1fc63c6c91ca51bba4b3df26",
            (_BANK_ZIP, "bank-additional.zip", "bank-additional/bank-additional-names.txt")),
    RawFile("compas/compas-scores-two-years.csv",
            "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
            ("https://raw.githubusercontent.com/propublica/compas-analysis/master/"
             "compas-scores-two-years.csv",)),
    RawFile("german/german.data",
            "b21f3d81db8071257d5ff1deaeba1fd4303b62712e6fcc9715c7a86202cb5871",
            (_UCI + "statlog/german/german.data",)),
)}
#: SHA-256 of every raw file, and where it can be downloaded, by path.
CHECKSUMS: dict[str, str] = {path: f.sha256 for path, f in RAW_FILES.items()}
SOURCES: dict[str, tuple[str, ...]] = {path: f.source for path, f in RAW_FILES.items()}


def register_raw_file(file: RawFile) -> RawFile:
    """Add ``file`` to :data:`RAW_FILES` (and its checksum and source), so that
    :func:`ensure_files` checks and downloads it; a different file at a registered path is a
    ValueError."""
    if not isinstance(file, RawFile):
        raise TypeError(f"file must be a posthoc.RawFile; got {type(file).__name__}.")
    known = RAW_FILES.get(file.path)
    if known is not None and known != file:
        raise ValueError(f"raw file {file.path!r} is registered already with SHA-256 "
                         f"{known.sha256}; got {file.sha256}.")
    RAW_FILES[file.path] = file
    CHECKSUMS[file.path] = file.sha256
    SOURCES[file.path] = file.source
    return file


def default_data_dir() -> Path:
    """The data folder used when none is given: ``$POSTHOC_DATA``, else a per-user cache."""
    return user_folder("POSTHOC_DATA", "data")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def download(source: tuple[str, ...], *, timeout: float = 60.0) -> bytes:
    """The bytes of a raw file from its source (a URL, then the members of zip archives)."""
    url, *members = source
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed URLs
        payload = response.read()
    for member in members:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            payload = archive.read(member)
    return payload


#: The default fetcher of :func:`ensure_files`, whose ``download`` flag hides the function.
FETCH = download


def _fix_instructions(relative: str, folder: Path) -> str:
    source = SOURCES[relative]
    where = source[0] if len(source) == 1 else f"{source[0]} (inside: {' / '.join(source[1:])})"
    return (f"Download it from {where} and place it at {folder / relative}, or point "
            f"data_dir / $POSTHOC_DATA at a folder that holds the verified raw files.")


def ensure_files(relatives: list[str], data_dir: Path | str | None = None, *,
                 download: bool = True,
                 fetch: Callable[[tuple[str, ...]], bytes] | None = None) -> Path:
    """Make sure the raw files exist in the data folder with the right checksums.

    A missing file is downloaded (when ``download`` is true and the network allows) and
    verified before it is written, atomically. A file with a wrong checksum is never
    overwritten silently: it is an error.

    Returns
    -------
    Path
        The data folder.

    Raises
    ------
    FileNotFoundError
        If a file is missing and cannot be downloaded; the message names the file, the folder
        and how to fix it.
    ValueError
        If a file (present or downloaded) does not match its SHA-256 sum.
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    fetch = fetch or FETCH
    for relative in relatives:
        path = folder / relative
        expected = CHECKSUMS[relative]
        if path.is_file():
            actual = sha256(path)
            if actual != expected:
                raise ValueError(
                    f"Raw file {relative} in data folder {folder} is corrupted: SHA-256 is "
                    f"{actual}, expected {expected}. Delete it so that it is downloaded again, "
                    f"or replace it. {_fix_instructions(relative, folder)}")
            continue
        if not download:
            raise FileNotFoundError(
                f"Raw file {relative} is missing from data folder {folder}. "
                + _fix_instructions(relative, folder))
        try:
            payload = fetch(SOURCES[relative])
        except Exception as exc:
            raise FileNotFoundError(
                f"Raw file {relative} is missing from data folder {folder} and could not be "
                f"downloaded ({type(exc).__name__}: {exc}). "
                + _fix_instructions(relative, folder)) from exc
        actual = hashlib.sha256(payload).hexdigest()
        if actual != expected:
            raise ValueError(
                f"Downloaded raw file {relative} does not match its checksum (SHA-256 {actual}, "
                f"expected {expected}); nothing was written to {folder}. "
                + _fix_instructions(relative, folder))
        atomic_bytes(path, payload)
    return folder


__all__ = ["CHECKSUMS", "FETCH", "RAW_FILES", "RawFile", "SOURCES", "default_data_dir", "download",
           "ensure_files", "register_raw_file", "sha256"]
