"""The study on a real Dask cluster: a scheduler and two workers started as separate
processes with the ``dask`` command line, as a user would, and the study's command line
pointed at them. Its cells equal a local run's in every column but runtime and provenance."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from posthoc.repro.identity import differing_columns
from posthoc.repro.study import ResultStore

DASK = Path(sys.executable).with_name("dask")
GRID = ["--profile", "quick", "--chapters", "main_comparison", "--configs", "compas-race",
        "--measures", "spd", "--methods", "default", "random", "--seeds", "0"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def cluster(tmp_path):
    if not DASK.is_file():
        pytest.fail(f"{DASK} is missing: the study extra (distributed) is not installed")
    address = f"tcp://127.0.0.1:{_free_port()}"
    log = open(tmp_path / "cluster.log", "w")
    port = address.rsplit(":", 1)[1]
    processes = [subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port",
                                   port, "--no-dashboard"], stdout=log, stderr=log)]
    processes += [subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1",
                                    "--no-dashboard", "--local-directory", str(tmp_path / f"w{i}")],
                                   stdout=log, stderr=log) for i in range(2)]
    try:
        from distributed import Client
        deadline = time.time() + 60
        while True:
            try:
                with Client(address, timeout=5) as client:
                    client.wait_for_workers(2, timeout=max(1, deadline - time.time()))
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        log.close()


def test_the_study_runs_on_separately_started_workers_with_a_local_runs_cells(
        cluster, data_dir, tmp_path):
    def study(*extra):
        done = subprocess.run([sys.executable, "-m", "posthoc.repro.study", *GRID,
                               "--data-dir", str(data_dir), *extra], capture_output=True,
                              text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]

    study("--scheduler", cluster, "--results", str(tmp_path / "cluster"))
    study("--workers", "1", "--results", str(tmp_path / "local"))
    remote = ResultStore(tmp_path / "cluster").load().set_index("cell_id").sort_index()
    local = ResultStore(tmp_path / "local").load().set_index("cell_id").sort_index()
    assert len(remote) == 2 and list(remote.index) == list(local.index)
    for identifier in remote.index:
        assert differing_columns(remote.loc[identifier], local.loc[identifier]) == []
    assert ResultStore(tmp_path / "cluster").runs()["scheduler"].iloc[0] == cluster
