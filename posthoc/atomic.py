"""Writing a file whole or not at all: into a temporary file beside it, then renamed, so
that a reader never sees half a file and a failed write leaves nothing behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable


def atomic_write(path: str | Path, write: Callable[[str], Any]) -> Path:
    """Call ``write(temporary)`` on a temporary file beside ``path``, then rename it to
    ``path``; the temporary file is removed if ``write`` or the rename fails. Returns
    ``path``.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> atomic_write(folder / "a.txt", lambda t: Path(t).write_text("whole")).read_text()
    'whole'
    >>> def broken(temporary):
    ...     Path(temporary).write_text("half")
    ...     raise OSError("disk full")
    >>> atomic_write(folder / "b.txt", broken)
    Traceback (most recent call last):
    ...
    OSError: disk full
    >>> sorted(p.name for p in folder.iterdir())
    ['a.txt']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp")
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def atomic_copy(source: str | Path, target: str | Path) -> Path:
    """Copy ``source`` to ``target`` with :func:`atomic_write`."""
    return atomic_write(target, lambda temporary: shutil.copyfile(source, temporary))


def atomic_bytes(path: str | Path, payload: bytes) -> Path:
    """Write ``payload`` to ``path`` with :func:`atomic_write`."""
    return atomic_write(path, lambda temporary: Path(temporary).write_bytes(payload))


__all__ = ["atomic_bytes", "atomic_copy", "atomic_write"]
