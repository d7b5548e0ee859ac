"""posthoc.threads: a computation's thread counts, limited and restored."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import numba, torch
import posthoc
from posthoc.threads import single_threaded
before = torch.get_num_threads()   # numba's threading layer is not started yet
with single_threaded() as yielded:
    inside = (yielded, torch.get_num_threads(), numba.get_num_threads())
print(inside, before == torch.get_num_threads())
"""


def test_a_fresh_process_runs_single_threaded_and_gets_its_counts_back():
    """In a fresh process (as in every study worker), the first use of numba's threads starts
    its threading layer; torch's count must still be 1 inside, and restored after."""
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         check=True, env={"OMP_NUM_THREADS": "2", **_environment()}).stdout
    assert out.split("\n")[0] == "(1, 1, 1) True"


def _environment() -> dict:
    import os

    return {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
