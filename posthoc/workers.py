"""posthoc's worker processes: spawned, single-threaded (see :mod:`posthoc.threads`), with
no life after their parent, and stopped rather than awaited when the run that started them
stops."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Iterator

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


def start_worker(parent_pid: int, initializer: Callable[..., Any] | None,
                 initargs: tuple) -> None:
    """What every worker does first: one torch thread, ending with ``parent_pid``, then
    ``initializer(*initargs)``."""
    torch.set_num_threads(1)
    exit_with_parent(parent_pid)
    if initializer is not None:
        initializer(*initargs)


@contextmanager
def process_pool(workers: int, *, initializer: Callable[..., Any] | None = None,
                 initargs: tuple = ()) -> Iterator[ProcessPoolExecutor]:
    """A pool of ``workers`` spawned worker processes (:func:`start_worker`). If the body
    raises (or is interrupted), nothing more starts and the tasks under way are stopped:
    leaving the pool would otherwise wait for them, and their results could no longer be
    used."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=start_worker,
                             initargs=(os.getpid(), initializer, initargs)) as pool:
        try:
            yield pool
        except BaseException:
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            raise


__all__ = ["WATCH_INTERVAL_S", "exit_with_parent", "process_pool", "start_worker"]
