"""Shared fixtures: the raw data folder and an isolated network cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posthoc.data import CHECKSUMS, default_data_dir, ensure_files


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The raw data ($POSTHOC_DATA, else the per-user cache), verified once per session."""
    return ensure_files(list(CHECKSUMS), default_data_dir())


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch):
    """Every test trains into its own network cache, never the user's."""
    folder = tmp_path_factory.mktemp("networks")
    monkeypatch.setenv("POSTHOC_CACHE", str(folder))
    return folder


@pytest.fixture(scope="session")
def datasets(data_dir):
    """The four configurations, loaded once."""
    from posthoc import load_dataset

    return {name: load_dataset(name, data_dir=data_dir)
            for name in ("adult-sex", "bank-age", "compas-race", "compas-sex")}


def pytest_report_header(config):
    return f"posthoc data folder: {os.environ.get('POSTHOC_DATA', default_data_dir())}"


@pytest.fixture(scope="session")
def problem():
    """A small trained network with a validation and a test split of a biased problem."""
    from posthoc import train_networks
    from problems import biased_problem

    train, valid, test = biased_problem(600, 0), biased_problem(400, 1), biased_problem(400, 2)
    net = train_networks((train, valid), seeds=[0], width=8, depth=2, max_epochs=30,
                         cache=False, progress=False, workers=1)[0]
    return net, valid, test
