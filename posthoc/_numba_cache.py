"""Where numba keeps the compiled optimiser's cache, chosen before numba is imported: beside
the package when its folder is writable (numba's own choice), else a writable folder of the
user's (``$POSTHOC_NUMBA_CACHE``, else ``~/.cache/posthoc/numba``), else one in the system's
temporary folder, so that posthoc imports for a user who cannot write the install or HOME."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable

from .paths import user_folder

#: The folder whose ``__pycache__`` numba writes by default.
PACKAGE_FOLDER = Path(__file__).resolve().parent / "methods"


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def _candidates() -> Iterable[Path]:
    try:
        yield user_folder("POSTHOC_NUMBA_CACHE", "numba")
    except (KeyError, RuntimeError):     # no home folder to expand "~" to
        pass
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    yield Path(tempfile.gettempdir()) / f"posthoc-numba-{uid}"


def choose_cache_folder(*, environ=os.environ, package: Path = PACKAGE_FOLDER,
                        writable: Callable[[Path], bool] = _writable,
                        candidates: Callable[[], Iterable[Path]] = _candidates) -> str | None:
    """Set ``NUMBA_CACHE_DIR`` in ``environ`` unless it is set or numba can write beside the
    package; return the folder chosen (None: numba's own).

    Examples
    --------
    >>> env = {}
    >>> choose_cache_folder(environ=env, package=Path("/ro"), writable=lambda p: p.name == "c",
    ...                     candidates=lambda: [Path("/home/a"), Path("/tmp/c")])
    '/tmp/c'
    >>> env["NUMBA_CACHE_DIR"]
    '/tmp/c'
    """
    if environ.get("NUMBA_CACHE_DIR") or writable(package / "__pycache__"):
        return None
    for folder in candidates():
        if writable(folder):
            environ["NUMBA_CACHE_DIR"] = str(folder)
            return str(folder)
    return None


choose_cache_folder()

__all__ = ["PACKAGE_FOLDER", "choose_cache_folder"]
