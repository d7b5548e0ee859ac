"""What every worker process of posthoc does: no life after its parent (its threads: see
:mod:`posthoc.threads`)."""

from __future__ import annotations

import os
import threading
import time

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
