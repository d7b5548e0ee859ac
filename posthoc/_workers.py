"""What every worker process of posthoc does: one thread, and no life after its parent."""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import numba
import torch

#: How often a worker checks that the process that started it is still alive, in seconds.
WATCH_INTERVAL_S = 0.5


def exit_with_parent(parent_pid: int, *, interval_s: float = WATCH_INTERVAL_S) -> None:
    """Start a daemon thread that ends this process as soon as ``parent_pid`` is no longer
    its parent (the parent died, even by SIGKILL, and the worker was re-parented)."""
    def watch() -> None:
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="posthoc-parent-watch", daemon=True).start()


@contextmanager
def single_threaded() -> Iterator[int]:
    """Run the body with one torch thread and one numba thread (so that its numbers do not
    depend on the machine's cores or the number of workers), then restore both; yields the
    torch thread count in force."""
    torch_threads, numba_threads = torch.get_num_threads(), numba.get_num_threads()
    torch.set_num_threads(1)
    numba.set_num_threads(1)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(torch_threads)
        numba.set_num_threads(numba_threads)
