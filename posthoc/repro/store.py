"""The results store: a folder of finished study cells, each written atomically as it
finishes, so that an interrupted run loses nothing finished and a rerun skips what is done;
and the tables the chapters keep beside the cells.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import pandas as pd
import pyarrow.parquet as pq

from ..atomic import atomic_write
from ..training import TRAINING_VERSION
from .profiles import results_folder


def read_parquet(path: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """The table in the parquet file ``path`` (only ``columns`` if given), read on the
    calling thread: pyarrow's thread pool, when a read has used it, can abort the
    interpreter as it exits ("terminate called without an active exception"), which made a
    finished run end with SIGABRT."""
    return pq.read_table(path, columns=columns, use_threads=False).to_pandas(use_threads=False)


class ResultStore:
    """A folder of finished cells, written atomically: one parquet file per cell as it
    finishes, and, after :meth:`compact`, one packed file (``cells.parquet``) holding many.

    A file that cannot be read is moved aside to ``quarantine/`` with a warning that names
    it, so its cells count as not done and are computed again. Runners sharing the store
    claim each cell with a lock file in ``locks/`` before computing it (:meth:`claim`), so
    no cell is computed twice; a lock whose process is gone, or older than
    ``stale_after_s``, has expired.
    """

    #: The packed file's name, and the folders of unreadable files and of cell locks.
    PACKED = "cells.parquet"
    QUARANTINE = "quarantine"
    LOCKS = "locks"
    #: Seconds an unreadable lock is taken to be still being written by its holder.
    LOCK_WRITE_S = 30.0
    #: The lock of the whole store, held while it is packed or rewritten.
    STORE_LOCK = "_store"

    def __init__(self, folder: str | Path, *, stale_after_s: float = 24 * 3600):
        self.folder = Path(folder)
        self.stale_after_s = stale_after_s

    def _quarantine(self, path: Path, error: Exception) -> None:
        target = self.folder / self.QUARANTINE / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target = target.with_name(f"{path.stem}-{time.time_ns()}{path.suffix}")
        os.replace(path, target)
        warnings.warn(f"results store: {path} could not be read ({type(error).__name__}: "
                      f"{error}); moved to {target}, and its cells will be computed again.",
                      RuntimeWarning, stacklevel=3)

    def _read(self, path: Path, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The table in ``path``, or None after quarantining it if it cannot be read."""
        try:
            return read_parquet(path, columns=columns)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is set aside
            self._quarantine(path, exc)
            return None

    def _cell_files(self) -> list[Path]:
        """The one-cell files whose footer can be read (the others are quarantined)."""
        if not self.folder.is_dir():
            return []
        files = []
        for path in sorted(p for p in self.folder.glob("*.parquet") if p.name != self.PACKED):
            try:
                pq.read_metadata(path)
                files.append(path)
            except Exception as exc:  # noqa: BLE001
                self._quarantine(path, exc)
        return files

    def _packed(self, columns: list[str] | None = None) -> pd.DataFrame:
        path = self.folder / self.PACKED
        table = self._read(path, columns) if path.is_file() else None
        return pd.DataFrame() if table is None else table

    def done(self) -> set[str]:
        """The ids of every finished cell."""
        done = {p.stem for p in self._cell_files()}
        packed = self._packed(columns=["cell_id"])
        return done | set(packed.get("cell_id", []))

    def claim(self, identifier: str) -> bool:
        """Take the lock of cell ``identifier`` for this process; False if another live
        runner holds it."""
        path = self.folder / self.LOCKS / f"{identifier}.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        record = json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                             "since": time.time(), "started": process_start(os.getpid())})
        for _ in range(2):
            try:
                handle = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                if not self._stale(path):
                    return False
                path.unlink(missing_ok=True)     # expired: take it over
                continue
            with os.fdopen(handle, "w") as lock:
                lock.write(record)
            return True
        return False

    def _stale(self, path: Path) -> bool:
        try:
            holder = json.loads(path.read_text())
            pid, host, since = int(holder["pid"]), holder["host"], float(holder["since"])
            started = holder.get("started")
        except FileNotFoundError:
            return True                          # released meanwhile
        except (OSError, ValueError, KeyError, TypeError):
            # Being written by its holder right now, or left unreadable long ago.
            try:
                return time.time() - path.stat().st_mtime > self.LOCK_WRITE_S
            except FileNotFoundError:
                return True
        if time.time() - since > self.stale_after_s:
            return True
        if host == socket.gethostname():
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
            # The PID is alive, but is it the holder? A reused PID started at another time.
            return started is not None and process_start(pid) != started
        return False

    def check_writable(self) -> None:
        """Raise, naming the folder, if the store cannot be written: a file in its place, or
        a folder this process may not write."""
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"results store {self.folder} is a file; expected a folder.")
        probe = self.folder if self.folder.exists() else next(
            (p for p in self.folder.parents if p.exists()), Path("."))
        if not os.access(probe, os.W_OK | os.X_OK):
            raise ValueError(f"results store {self.folder} is not writable "
                             f"({probe} is read-only for this user).")

    @contextmanager
    def locked(self, *, timeout_s: float = 600.0):
        """Hold the whole store's lock (for :meth:`compact` and :meth:`rewrite`), waiting
        for another holder up to ``timeout_s``."""
        deadline = time.time() + timeout_s
        while not self.claim(self.STORE_LOCK):
            if time.time() > deadline:
                raise TimeoutError(f"results store {self.folder}: another process has held "
                                   f"its lock for over {timeout_s:.0f} s.")
            time.sleep(0.2)
        try:
            yield
        finally:
            self.release(self.STORE_LOCK)

    def finished(self, identifier: str) -> bool:
        """Whether cell ``identifier``'s one-cell file exists now (another runner may have
        written it since :meth:`done` was read)."""
        return (self.folder / f"{identifier}.parquet").is_file()

    def release(self, identifier: str) -> None:
        """Give back the lock of cell ``identifier``."""
        (self.folder / self.LOCKS / f"{identifier}.lock").unlink(missing_ok=True)

    def write(self, identifier: str, row: dict) -> None:
        self.write_frame(identifier, pd.DataFrame([row]))

    def write_frame(self, identifier: str, frame: pd.DataFrame) -> None:
        """Write ``frame`` as ``<identifier>.parquet``: to a temporary file, then renamed."""
        self._write_atomically(frame, self.folder / f"{identifier}.parquet")

    def _write_atomically(self, frame: pd.DataFrame, path: Path) -> None:
        atomic_write(path, lambda temporary: frame.to_parquet(temporary, index=False))

    def log_run(self, record: dict) -> None:
        """Append one line to ``runs.jsonl``: when a grid run started and ended, and what it
        computed (the study's wall time is the sum over its runs)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / "runs.jsonl", "a") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")

    def runs(self) -> pd.DataFrame:
        """The records of :meth:`log_run`, one row per grid run."""
        path = self.folder / "runs.jsonl"
        if not path.is_file():
            return pd.DataFrame()
        return pd.read_json(path, lines=True)

    def load(self) -> pd.DataFrame:
        """Every finished cell, one row each (``cell_id`` names it)."""
        frames = [self._packed()] + [self._read(f) for f in self._cell_files()]
        frames = [f for f in frames if f is not None and not f.empty]
        if not frames:
            return pd.DataFrame()
        rows = pd.concat(frames, ignore_index=True)
        if "cell_id" in rows:
            rows = rows.drop_duplicates("cell_id", keep="last").reset_index(drop=True)
        return rows

    def rewrite(self, rows: pd.DataFrame) -> int:
        """Replace every stored cell by ``rows`` (one packed file, written atomically; the
        one-cell files are then removed); return the number of cells written."""
        with self.locked():
            return self._pack(rows)

    def _pack(self, rows: pd.DataFrame) -> int:
        files = self._cell_files()
        rows = rows.sort_values("cell_id", kind="stable").reset_index(drop=True)
        self._write_atomically(rows, self.folder / self.PACKED)
        for path in files:
            path.unlink(missing_ok=True)
        return len(rows)

    def compact(self) -> int:
        """Pack every finished cell into ``cells.parquet`` (written atomically), then remove
        the one-cell files; return the number of cells packed. Safe to interrupt: until the
        one-cell files are gone, :meth:`load` reads each cell once."""
        with self.locked():
            if not self._cell_files():
                return len(self.done())
            return self._pack(self.load())


def process_start(pid: int) -> int | None:
    """When process ``pid`` started (clock ticks since boot, from ``/proc``), or None where
    that cannot be read: with the PID, it names one process even after the PID is reused."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[19])
    except (OSError, IndexError, ValueError):
        return None


def save_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write ``frame`` to the CSV file ``path`` atomically."""
    path = Path(path)
    atomic_write(path, lambda temporary: frame.to_csv(temporary, index=False))
    return path


def dirty_cells(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows computed by code with uncommitted changes (``commit`` ending in ``-dirty``)
    or outside a checkout (``unknown``): their code cannot be recovered from the history."""
    if rows.empty or "commit" not in rows:
        return rows.iloc[0:0]
    commit = rows["commit"].astype(str)
    return rows[commit.str.endswith("-dirty") | (commit == "unknown")]


def stored_table(profile: str, name: str, parameters: dict, compute: Callable[[], pd.DataFrame],
                 *, results: str | Path | None = None) -> pd.DataFrame:
    """The table ``compute()`` returns, computed once per ``parameters`` and kept in the
    results store (``<results>/tables/<name>-<hash>.parquet``, written atomically); later
    calls with the same parameters read it. Chapters use it for what is not a study cell
    (Table 3's model comparison, Table 1's seed rows, Appendix A's perturbation studies)."""
    if results is None:
        results = results_folder(profile)
    # The training algorithm's version is part of the name: its networks change the table.
    text = json.dumps({"name": name, "parameters": parameters, "training": TRAINING_VERSION},
                      sort_keys=True, default=str)
    store = ResultStore(Path(results) / "tables")
    identifier = f"{name}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    path = store.folder / f"{identifier}.parquet"
    if path.is_file():
        return read_parquet(path)
    table = compute()
    store.write_frame(identifier, table)
    return read_parquet(path)


__all__ = ["ResultStore", "dirty_cells", "process_start", "read_parquet", "save_csv",
           "stored_table"]
