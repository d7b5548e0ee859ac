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


def results_folder(profile: str) -> Path:
    """Where a profile's study results live: ``$POSTHOC_RESULTS/<profile>`` if set, else
    ``results/<profile>`` of the source checkout posthoc is imported from (where the
    paper-scale results are committed), else the per-user cache."""
    chosen = os.environ.get("POSTHOC_RESULTS")
    if chosen:
        return Path(chosen).expanduser() / profile
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "posthoc").is_dir():
        return checkout / "results" / profile
    return user_folder("POSTHOC_RESULTS", "results") / profile
