"""How many threads torch and numba use while posthoc computes.

posthoc's methods and its training work on small batched tensors. There a second thread
gains little and loses much as soon as another process runs: on a 2-core machine beside one
busy process, two threads made random perturbation and layer-wise optimisation about 2.5
times slower than one, and numba's parallel scan 16 times slower. On an idle machine the
second thread gains, but a count chosen when a call starts cannot follow the load while
it runs. So :func:`posthoc.debias` runs its method with one thread unless told otherwise
(``"auto"``: one per idle core when it starts, :func:`auto_threads`), and every worker
process of the study is single-threaded. No number posthoc computes depends on the count.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

# Chooses a writable cache folder for numba, so it must come before numba.
from . import _numba_cache  # noqa: F401  # isort: skip
import numba
import torch

from .validation import BAD_INT, check_positive_int

#: The kernel's load figures; the fourth field is "runnable tasks/all tasks".
LOADAVG = Path("/proc/loadavg")


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def idle_cores(*, reads: int = 5, pause_s: float = 0.002, loadavg: Path = LOADAVG,
               cores: int | None = None) -> int:
    """The usable cores that no other process is running on: the cores less the kernel's
    count of runnable tasks other than this one (``/proc/loadavg``), at its highest over
    ``reads`` reads ``pause_s`` apart, so that a competitor caught between two time slices
    still counts. 0 where the count cannot be read (not Linux)."""
    cores = usable_cores() if cores is None else cores
    busiest = 0
    for read in range(reads):
        try:
            running = int(loadavg.read_text().split()[3].split("/")[0])
        except (OSError, IndexError, ValueError):
            return 0
        busiest = max(busiest, running - 1)      # this process is running as it reads
        if read + 1 < reads:
            time.sleep(pause_s)
    return max(0, cores - busiest)


def auto_threads() -> int:
    """One thread, or one per idle core when more than one core is idle
    (:func:`idle_cores`)."""
    return max(1, idle_cores())


def check_threads(threads) -> int:
    """``threads`` as a count: a positive integer as it is, ``"auto"`` as
    :func:`auto_threads` finds it now."""
    if isinstance(threads, str):
        if threads != "auto":
            raise ValueError(BAD_INT.format(name="threads", constraint=">= 1 or 'auto'",
                                            value=threads))
        return auto_threads()
    return check_positive_int("threads", threads)


@contextmanager
def numba_threads(threads: int) -> Iterator[int]:
    """Run the body with at most ``threads`` numba threads (no more than numba started), then
    restore the count; yields the count in force."""
    before = numba.get_num_threads()
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    try:
        yield numba.get_num_threads()
    finally:
        numba.set_num_threads(before)


@contextmanager
def limited_threads(threads: int) -> Iterator[int]:
    """Run the body with ``threads`` torch threads and at most that many numba threads
    (:func:`numba_threads`), then restore both; yields the torch thread count in force.

    numba's threads are limited first: the first call to numba's thread count starts its
    threading layer, which in a fresh process resets the OpenMP thread count that torch
    reads, so torch's count is set after it."""
    with numba_threads(threads):
        torch_threads = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            yield torch.get_num_threads()
        finally:
            torch.set_num_threads(torch_threads)


def single_threaded():
    """Run the body with one torch thread and one numba thread (so that its numbers do not
    depend on the machine's cores or the number of workers), then restore both; yields the
    torch thread count in force."""
    return limited_threads(1)


__all__ = ["auto_threads", "check_threads", "idle_cores", "limited_threads",
           "numba_threads", "single_threaded", "usable_cores"]
