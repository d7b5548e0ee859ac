"""Where posthoc keeps files on a user's machine."""

from __future__ import annotations

import os
from pathlib import Path


def user_folder(variable: str, name: str) -> Path:
    """The folder in environment ``variable``, else ``$XDG_CACHE_HOME/posthoc/name``
    (``~/.cache/posthoc/name`` when XDG_CACHE_HOME is unset)."""
    chosen = os.environ.get(variable)
    if chosen:
        return Path(chosen).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "posthoc" / name
