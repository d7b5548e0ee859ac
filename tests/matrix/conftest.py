"""The parameter matrix uses the network cache `make book` filled and a copy of its results
store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_cache():
    """Overrides the unit tests' fixture: the chapters run here read the build's cache."""
    return None


@pytest.fixture(scope="module")
def monkeypatch_module():
    """A monkeypatch undone when the module's tests end (the matrix's environment)."""
    with pytest.MonkeyPatch.context() as patch:
        yield patch
