"""The parameter matrix uses the network cache and results store `make book` filled."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_cache():
    """Overrides the unit tests' fixture: the chapters run here read the build's cache."""
    return None
