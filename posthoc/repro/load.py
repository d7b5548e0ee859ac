"""A competing CPU-bound process, so that a benchmark can be timed on a busy machine as well
as on an idle one (``python -m posthoc.repro.bench --busy``)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Iterator

#: The competing process: one Python interpreter spinning on one core until it is stopped.
SPIN = "while True:\n    pass\n"


@contextmanager
def competing_process(*, warm_up_s: float = 0.5) -> Iterator[subprocess.Popen]:
    """Run the body while one other process keeps a core busy; the process is stopped (and
    reaped) when the body ends, whatever happens in it."""
    spinner = subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(warm_up_s)
        if spinner.poll() is not None:
            raise RuntimeError(f"the competing process ended at once (exit code "
                               f"{spinner.returncode}); the busy timings would be idle ones.")
        yield spinner
    finally:
        spinner.kill()
        spinner.wait()


def cpu_seconds(process: subprocess.Popen) -> float:
    """CPU seconds ``process`` has used so far (from ``/proc``; NaN where there is none)."""
    try:
        fields = open(f"/proc/{process.pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


__all__ = ["SPIN", "competing_process", "cpu_seconds"]
