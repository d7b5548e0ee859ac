"""How many threads torch and numba use while posthoc computes.

posthoc's methods and its training work on small batched tensors. There a second thread
gains little and loses much as soon as another process runs: on a 2-core machine beside one
busy process, two threads made random perturbation and layer-wise optimisation about 2.5
times slower than one, and numba's parallel scan 16 times slower. So
:func:`posthoc.debias` runs its method with one thread unless told otherwise, and every
worker process is single-threaded. No number posthoc computes depends on the count.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

# Chooses a writable cache folder for numba, so it must come before numba.
from . import _numba_cache  # noqa: F401  # isort: skip
import numba
import torch


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


__all__ = ["limited_threads", "numba_threads", "single_threaded"]
