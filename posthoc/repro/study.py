"""The study as a grid of cells, each run written atomically to a results store.

A cell is one (configuration, architecture, seed, measure, method). Running it debiases the
seed's network with the method and evaluates the result on the validation and the test
split; the outcome is one tidy row. Each finished cell is written to its own parquet file
(written to a temporary name, then renamed), so an interrupted run loses nothing finished,
and a rerun skips what is done.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import pandas as pd
import pyarrow.parquet as pq
import torch
from tqdm import tqdm

from .. import __version__
from ..atomic import atomic_write
from .._validation import check_choice, check_positive_int, check_seed, package_versions
from .._workers import exit_with_parent
from ..threads import single_threaded
from ..data import CONFIGURATIONS, LABEL_CODINGS, load_dataset
from ..diagnostics import network_health
from ..debias import debias, evaluate, evaluation_keys
from ..methods import METHODS, NotApplicable
from ..metrics import MEASURES
from ..objectives import OBJECTIVES, NoCertifiedCandidate
from .. import numerics
from ..training import TRAINING_VERSION, cache_key, train_network, train_networks
from .fingerprint import StaleCode, current_fingerprint, stale_cells
from .profiles import (ARCHITECTURES, PROFILES, chapter_defaults, check_profile, resolve,
                       results_folder)


@dataclass(frozen=True)
class Cell:
    """One run of the study."""

    config: str
    arch: str
    seed: int
    measure: str
    method: str

    def __post_init__(self) -> None:
        check_choice("config", self.config, CONFIGURATIONS)
        check_choice("arch", self.arch, ARCHITECTURES)
        check_choice("measure", self.measure, MEASURES)
        check_choice("method", self.method, METHODS)


@dataclass(frozen=True)
class Settings:
    """Everything besides the cell that determines a run's numbers."""

    lam: float = 0.75
    max_epochs: int = 1001
    method_options: dict = field(default_factory=dict)  # {method: {option: value}}
    #: The label coding (``posthoc.data.LABEL_CODINGS``); the paper's is AIF360's.
    labels: str = "aif360"
    #: The objective the methods minimise; ``epsilon`` is its bias tolerance, if it has one.
    objective: str = "weighted"
    epsilon: float | None = None

    def __post_init__(self) -> None:
        check_choice("labels", self.labels, LABEL_CODINGS)
        check_choice("objective", self.objective, OBJECTIVES)
        if self.objective == "weighted" and self.epsilon is not None:
            raise ValueError(f"epsilon={self.epsilon!r} only applies to the objectives with a "
                             "tolerance (constrained, certified); the weighted one has none.")

    def key(self) -> dict:
        """Everything that determines a cell's numbers besides the cell, including the
        training algorithm's version (its networks)."""
        return {"lam": self.lam, "max_epochs": self.max_epochs,
                "method_options": {m: dict(sorted(o.items()))
                                   for m, o in sorted(self.method_options.items())},
                "labels": self.labels, "objective": self.objective, "epsilon": self.epsilon,
                "training": TRAINING_VERSION}




def cell_key(cell: Cell, settings: Settings) -> str:
    """A hash of the cell and the settings: what determines its numbers besides the code."""
    text = json.dumps({"cell": asdict(cell), "settings": settings.key()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cell_id(cell: Cell, settings: Settings, code: str | None = None) -> str:
    """A stable name for the cell's result: a hash of its :func:`cell_key` and the
    fingerprint of the code that computes it (``code``; default: this checkout's,
    :func:`posthoc.repro.fingerprint.current_fingerprint`)."""
    code = current_fingerprint(cell.method) if code is None else code
    return identifier_of(cell_key(cell, settings), code)


def identifier_of(key: str, code: str) -> str:
    """The cell id of the cell :func:`cell_key` ``key`` computed by code ``code``."""
    return hashlib.sha256(f"{key}:{code}".encode()).hexdigest()[:20]


def grid(*, configs: Iterable[str], seeds: Iterable[int], measures: Iterable[str],
         methods: Iterable[str], archs: Iterable[str] = ("default",)) -> list[Cell]:
    """Every combination, in a stable order; a value given twice counts once."""
    once = [list(dict.fromkeys(values)) for values in (configs, archs, seeds, measures, methods)]
    configs, archs, seeds, measures, methods = once
    return [Cell(c, a, check_seed(s), m, meth) for c in configs for a in archs for s in seeds
            for m in measures for meth in methods]


@functools.cache
def code_commit() -> str:
    """The commit of the code this process runs: the checkout's commit when first asked
    (the package is imported by then), with ``-dirty`` if the package differed from it;
    ``unknown`` outside a git checkout. Asked once per process, so a commit made while a
    long run goes on does not relabel the cells its processes compute."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=here, timeout=10)
        commit = out.stdout.strip()
        if not commit:
            return "unknown"
        changed = subprocess.run(["git", "status", "--porcelain", "--", str(here.parent)],
                                 capture_output=True, text=True, cwd=here, timeout=10)
        return commit + ("-dirty" if changed.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


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
            return pd.read_parquet(path, columns=columns)
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
        return pd.read_parquet(path)
    table = compute()
    store.write_frame(identifier, table)
    return pd.read_parquet(path)


def prepare_networks(cells: Sequence[Cell], settings: Settings, *, progress: bool = False,
                     data_dir: str | Path | None = None) -> None:
    """Train (or find in the cache) every network the cells need, all seeds of a dataset
    and architecture in one batched call."""
    groups: dict[tuple[str, str], set[int]] = {}
    for cell in cells:
        dataset = CONFIGURATIONS[cell.config].dataset
        groups.setdefault((dataset, cell.arch), set()).add(cell.seed)
    for (dataset, arch), seeds in groups.items():
        config = next(c.config for c in cells
                      if CONFIGURATIONS[c.config].dataset == dataset and c.arch == arch)
        train_networks(load_dataset(config, labels=settings.labels, data_dir=data_dir),
                       seeds=sorted(seeds),
                       max_epochs=settings.max_epochs, progress=progress,
                       **ARCHITECTURES[arch])


#: The packages whose versions each row records.
VERSIONED = ("torch", "numpy", "pandas", "scikit-learn", "numba", "aif360")


def versions_json() -> str:
    """posthoc's version and those of :data:`VERSIONED`, as a JSON object."""
    return json.dumps({"posthoc": __version__, **package_versions(VERSIONED)}, sort_keys=True)


def run_cell(cell: Cell, settings: Settings, *, data_dir: str | Path | None = None) -> dict:
    """Run one cell and return its tidy row. The cell runs on one torch and one numba
    thread, so that its numbers do not depend on the number of workers or cores; the row
    records that thread count, the package versions, the commit of the code that runs it
    (:func:`code_commit`), the network's health at its default threshold on the validation
    split (``network_failed``: see :mod:`posthoc.diagnostics`), and whether the debiased
    classifier is constant on each split. A cell whose method cannot run on its data, or
    where no candidate qualifies for the certified selection (``certified`` False), is a
    row with no result and the reason in ``error``."""
    dataset = load_dataset(cell.config, labels=settings.labels, data_dir=data_dir)
    with single_threaded() as threads:
        network = train_network(dataset, seed=cell.seed, max_epochs=settings.max_epochs,
                                progress=False, **ARCHITECTURES[cell.arch])
        health = network_health(network, dataset.valid)
        tolerance = ({"epsilon": settings.epsilon} if settings.objective != "weighted"
                     and settings.epsilon is not None else {})
        cpu_start = time.process_time()
        try:
            result = debias(network, dataset.valid, cell.method, measure=cell.measure,
                            lam=settings.lam, seed=cell.seed, objective=settings.objective,
                            **tolerance, **settings.method_options.get(cell.method, {}))
        except (NoCertifiedCandidate, NotApplicable) as exc:
            result, error = None, str(exc)        # recorded as a row without a result
            applicable = isinstance(exc, NoCertifiedCandidate)
        else:
            error, applicable = "", True
        cpu_s = time.process_time() - cpu_start
        missing = {key: (None if key == "constant" else float("nan"))
                   for key in evaluation_keys()}
        evaluations = {split: missing if result is None else
                       evaluate(result, getattr(dataset, split)) for split in ("valid", "test")}
    certified = (result is not None if settings.objective == "certified" and applicable
                 else None)
    row: dict[str, Any] = {**asdict(cell), "lam": settings.lam,
                           "max_epochs": settings.max_epochs, "labels": settings.labels,
                           "objective": settings.objective,
                           "epsilon": (float("nan") if settings.epsilon is None
                                       else settings.epsilon),
                           "method_options": json.dumps(
                               settings.method_options.get(cell.method, {}), sort_keys=True),
                           "certified": certified, "error": error,
                           "bias_bound": (float("nan") if result is None else
                                          float(result.details.get("bias_bound", float("nan")))),
                           "threshold": float("nan") if result is None else result.threshold,
                           "runtime_s": float("nan") if result is None else result.runtime_s,
                           # The processor time of the method (one thread): unlike the wall
                           # time, it hardly changes when other processes share the machine.
                           "cpu_s": float("nan") if result is None else cpu_s}
    for split_name, evaluation in evaluations.items():
        for key, value in evaluation.items():
            row[f"{split_name}_{key}"] = value
    row.update({"network": cache_key(dataset.train, dataset.valid, seed=cell.seed,
                                     max_epochs=settings.max_epochs, early_stopping=True,
                                     **ARCHITECTURES[cell.arch]),
                "numerics": numerics.in_force(), "processor": numerics.processor(),
                "network_valid_accuracy": health["accuracy"],
                "network_valid_positive_rate": health["positive_rate"],
                "network_failed": health["failed"]})
    row.update({"version": __version__, "commit": code_commit(),
                "code": current_fingerprint(cell.method), "torch_threads": threads,
                "versions": versions_json(),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return row


def _init_worker(parent_pid: int) -> None:
    torch.set_num_threads(1)
    exit_with_parent(parent_pid)
    code_commit()                                 # the code this worker imported


def _run_cell_task(cell: Cell, settings: Settings, identifier: str,
                   data_dir: str | Path | None) -> tuple[str, dict]:
    return identifier, run_cell(cell, settings, data_dir=data_dir)


def run_grid(cells: Sequence[Cell], settings: Settings, store: ResultStore, *,
             progress: bool = True, data_dir: str | Path | None = None, workers: int = 1,
             scheduler: str | None = None, stale: str = "recompute") -> pd.DataFrame:
    """Run every cell not yet in ``store``, writing each as it finishes; return all rows of
    the grid (finished before or now).

    Cells run one after another (``workers=1``), in ``workers`` local processes, or on the
    Dask distributed cluster at ``scheduler`` (an address such as ``tcp://host:8786``).
    Either way the results come back here and are written one by one, atomically. A cell
    stored from other code (the same :func:`cell_key`, another fingerprint) is computed
    again with this code (``stale="recompute"``), or stops the run with
    :class:`~posthoc.repro.fingerprint.StaleCode` (``stale="refuse"``).
    """
    check_positive_int("workers", workers)
    check_choice("stale", stale, ("recompute", "refuse"))
    code_commit()                                 # the code this process imported
    cells = list(dict.fromkeys(cells))            # a cell given twice is computed once
    identifiers = [cell_id(cell, settings) for cell in cells]
    keys = dict(zip(identifiers, (cell_key(cell, settings) for cell in cells)))
    done = store.done()
    pending = [(cell, i) for cell, i in zip(cells, identifiers) if i not in done]
    if pending:
        store.check_writable()
    if pending and stale == "refuse":
        old = stale_cells(store.load(), {keys[i]: i for _, i in pending})
        if len(old):
            raise StaleCode(store.folder, old)
    # Another runner on the same store may hold some cells, or have finished them since
    # `done` was read: leave those to it.
    todo = []
    for cell, identifier in pending:
        if not store.claim(identifier):
            continue
        if store.finished(identifier):
            store.release(identifier)
            continue
        todo.append((cell, identifier))
    held_elsewhere = len([i for _, i in pending if not store.finished(i)]) - len(todo)
    if held_elsewhere > 0:
        warnings.warn(f"{held_elsewhere} cell(s) of this grid are being computed by another "
                      f"runner on {store.folder}; they are left to it and missing from the "
                      "rows returned now.", RuntimeWarning, stacklevel=2)
    started, start_clock, computed = time.strftime("%Y-%m-%dT%H:%M:%S"), time.perf_counter(), []
    if todo:
        prepare_networks([cell for cell, _ in todo], settings, progress=progress,
                         data_dir=data_dir)
    bar = tqdm(total=len(todo), desc="study cells", unit="cell", disable=not progress)

    def finish(identifier: str, row: dict) -> None:
        row["cell_id"], row["cell_key"] = identifier, keys[identifier]
        store.write(identifier, row)
        store.release(identifier)
        computed.append(identifier)
        bar.update(1)

    try:
        if scheduler is not None and todo:
            # An optional dependency (the study extra), needed only for a cluster.
            from distributed import Client, as_completed as completed_on_cluster

            with Client(scheduler) as client:
                futures = [client.submit(_run_cell_task, cell, settings, identifier, data_dir,
                                         key=f"posthoc-cell-{identifier}", pure=False)
                           for cell, identifier in todo]
                for future in completed_on_cluster(futures):
                    finish(*future.result())
        elif workers > 1 and len(todo) > 1:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(min(workers, len(todo)), mp_context=context,
                                     initializer=_init_worker,
                                     initargs=(os.getpid(),)) as pool:
                futures = [pool.submit(_run_cell_task, cell, settings, identifier, data_dir)
                           for cell, identifier in todo]
                try:
                    for future in as_completed(futures):
                        finish(*future.result())
                except BaseException:
                    # Interrupted or failed: keep what is written, start nothing more, and
                    # stop the cells under way (leaving the pool would wait for them, and
                    # their results could no longer be written).
                    processes = list((getattr(pool, "_processes", None) or {}).values())
                    pool.shutdown(wait=False, cancel_futures=True)
                    for process in processes:
                        process.terminate()
                    raise
        else:
            for cell, identifier in todo:
                finish(identifier, run_cell(cell, settings, data_dir=data_dir))
    finally:
        bar.close()
        for _, identifier in todo:
            store.release(identifier)             # the ones not finished
        if todo:
            store.log_run({"started": started, "ended": time.strftime("%Y-%m-%dT%H:%M:%S"),
                           "seconds": round(time.perf_counter() - start_clock, 1),
                           "cells_computed": len(computed), "cells_in_grid": len(cells),
                           "cells_held_elsewhere": held_elsewhere, "workers": workers,
                           "scheduler": scheduler, "cores": os.cpu_count(),
                           "commit": code_commit()})
    rows = store.load()
    if rows.empty:
        return rows
    return rows[rows["cell_id"].isin(identifiers)].reset_index(drop=True)


def _method_options(profile: str, settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile's method options with a chapter's budgets (``trials``, ``calls``,
    ``epochs``) in place, keeping only values that differ from the registered defaults, so
    that a setting equal to a default leaves the cells' names unchanged."""
    options = {m: dict(o) for m, o in check_profile(profile).method_options.items()}
    for name, (method, option) in {"trials": ("random", "trials"),
                                   "calls": ("layerwise", "calls"),
                                   "epochs": ("adversarial", "epochs")}.items():
        if name in settings:
            options.setdefault(method, {})[option] = settings[name]
    kept = {m: {k: v for k, v in o.items() if v != METHODS[m].defaults[k]}
            for m, o in options.items()}
    return {m: o for m, o in kept.items() if o}


#: The chapters whose results are study cells: the paper's study (the main comparison and
#: the ablation) and "Beyond the paper".
PAPER_STUDY = ("main_comparison", "ablations")
STUDY_CHAPTERS = PAPER_STUDY + ("beyond",)


def chapter_grid(chapter: str, profile: str, settings: dict[str, Any] | None = None
                 ) -> tuple[list[Cell], Settings]:
    """The cells and settings a chapter of the paper's study needs, from its ``settings``
    (its resolved parameters, the profile's defaults when None): the main comparison (its
    configurations, measures and methods on the paper's network) or the ablation (its
    networks, SPD only)."""
    check_choice("chapter", chapter, PAPER_STUDY)
    settings = chapter_defaults(chapter, profile) if settings is None else settings
    run = _settings(profile, settings)
    common = dict(configs=settings["configs"], seeds=settings["seeds"],
                  methods=settings["methods"])
    if chapter == "main_comparison":
        return grid(measures=settings["measures"], **common), run
    return grid(measures=["spd"], archs=settings["archs"], **common), run


def _settings(profile: str, settings: dict[str, Any], **objective: Any) -> Settings:
    return Settings(lam=float(settings["lam"]), max_epochs=check_profile(profile).max_epochs,
                    method_options=_method_options(profile, settings), **objective)


def beyond_grids(profile: str, settings: dict[str, Any] | None = None
                 ) -> list[tuple[list[Cell], Settings]]:
    """The groups of cells "Beyond the paper" needs, each with its settings: every method
    (the paper's and the two modern baselines) under the weighted and the constrained
    objective; the frontier's methods under the constrained objective at each tolerance
    (SPD); and the configurations with more than two groups under the constrained objective
    and the certified selection (SPD)."""
    settings = chapter_defaults("beyond", profile) if settings is None else settings
    constrained = _settings(profile, settings, objective="constrained",
                            epsilon=float(settings["epsilon"]))
    common = dict(configs=settings["configs"], seeds=settings["seeds"])
    groups = [(grid(measures=settings["measures"], methods=settings["methods"], **common),
               _settings(profile, settings)),
              (grid(measures=settings["measures"], methods=settings["methods"], **common),
               constrained)]
    for epsilon in settings["epsilons"]:
        groups.append((grid(measures=["spd"], methods=settings["frontier_methods"], **common),
                       _settings(profile, settings, objective="constrained",
                                 epsilon=float(epsilon))))
    several = dict(configs=settings["multigroup_configs"], seeds=settings["seeds"],
                   measures=["spd"], methods=settings["frontier_methods"])
    groups += [(grid(**several), constrained),
               (grid(**several), _settings(profile, settings, objective="certified",
                                           epsilon=float(settings["epsilon"])))]
    return _merged(groups)


def chapter_grids(chapter: str, profile: str, settings: dict[str, Any] | None = None
                  ) -> list[tuple[list[Cell], Settings]]:
    """A study chapter's groups of cells, each with its settings."""
    check_choice("chapter", chapter, STUDY_CHAPTERS)
    if chapter == "beyond":
        return beyond_grids(profile, settings)
    return [chapter_grid(chapter, profile, settings)]


def _merged(groups: list[tuple[list[Cell], Settings]]) -> list[tuple[list[Cell], Settings]]:
    """Groups with equal settings joined, each cell once, in order."""
    joined: dict[str, tuple[Settings, list[Cell]]] = {}
    for cells, run in groups:
        key = json.dumps(run.key(), sort_keys=True)
        joined.setdefault(key, (run, []))[1].extend(cells)
    return [(list(dict.fromkeys(cells)), run) for run, cells in joined.values()]


def profile_plan(profile: str, chapters: Sequence[str] = STUDY_CHAPTERS
                 ) -> list[tuple[list[Cell], Settings]]:
    """Every group of cells of a profile's study chapters (by default all of them), groups
    with equal settings joined."""
    return _merged([group for chapter in chapters
                    for group in chapter_grids(chapter, profile)])


def profile_grid(profile: str) -> tuple[list[Cell], Settings]:
    """Every cell of a profile's paper study: each chapter's default grid (one settings
    object serves both, since the chapters share the profile's budgets)."""
    plan = profile_plan(profile, PAPER_STUDY)
    if len(plan) != 1:
        raise ValueError(f"the paper study's chapters should share one settings; got {plan}.")
    return plan[0]


def study_rows(profile: str, cells: Sequence[Cell], settings: Settings, *,
               results: str | Path | None = None, workers: int | None = None,
               progress: bool = False, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The tidy rows of ``cells``, read from the profile's results store (default:
    :func:`posthoc.repro.profiles.results_folder`) and completed by running only the
    missing cells, in ``workers`` processes (default, or 0: one per core)."""
    store = ResultStore(results_folder(profile) if results is None else results)
    return run_grid(cells, settings, store, progress=progress, data_dir=data_dir,
                    workers=workers or os.cpu_count() or 1,
                    stale="refuse" if profile == "paper" else "recompute")


def chapter_rows(chapter: str, profile: str, settings: dict[str, Any] | None = None, *,
                 workers: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`study_rows` of every group of :func:`chapter_grids`, one table (the rows
    record each group's objective and tolerance)."""
    frames = [study_rows(profile, cells, run, workers=workers, **kwargs)
              for cells, run in chapter_grids(chapter, profile, settings)]
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


#: Parameters of "Beyond the paper" that a selection of methods or configurations narrows too.
_ALSO_NARROWED = {"methods": ("frontier_methods",), "configs": ("multigroup_configs",)}


def _narrowed(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Each chosen chapter's default settings, narrowed to the command line's selection
    (values are checked against the main comparison's, the widest); chapters the selection
    leaves empty are dropped."""
    selection = {name: getattr(args, name) for name in ("configs", "measures", "methods",
                                                         "archs", "seeds")
                 if getattr(args, name) is not None}
    resolve("main_comparison", args.profile,
            **{k: v for k, v in selection.items() if k != "archs"})
    if "archs" in selection:
        resolve("ablations", args.profile, archs=selection["archs"])
    chosen = {}
    for chapter in args.chapters:
        settings = chapter_defaults(chapter, args.profile)
        if chapter == "ablations" and "spd" not in selection.get("measures", ["spd"]):
            continue
        for name, values in selection.items():
            for key in (name, *_ALSO_NARROWED.get(name, ())):
                if key in settings:
                    settings[key] = [v for v in settings[key] if v in values]
        if all(settings[name] for name in selection if name in settings):
            chosen[chapter] = settings
    return chosen


def main(argv: list[str] | None = None) -> int:
    """``python -m posthoc.repro.study``: run a profile's grid into its results store."""
    parser = argparse.ArgumentParser(
        prog="python -m posthoc.repro.study",
        description="Run a profile's study grid (the main comparison and the ablation) into "
                    "the results store the chapters read.")
    parser.add_argument("--profile", default="quick", choices=list(PROFILES))
    parser.add_argument("--results", default=None,
                        help="results store folder (default: the one the chapters read, "
                             "results/<profile> or $POSTHOC_RESULTS/<profile>)")
    parser.add_argument("--chapters", nargs="+", choices=list(STUDY_CHAPTERS),
                        default=list(STUDY_CHAPTERS), help="which chapters' cells to run")
    for name in ("configs", "measures", "methods", "archs"):
        parser.add_argument(f"--{name}", nargs="+", help=f"only these {name}")
    parser.add_argument("--seeds", nargs="+", type=int, help="only these seeds")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="local processes (default: the number of cores)")
    parser.add_argument("--scheduler", default=None,
                        help="address of a Dask distributed scheduler to run the cells on")
    parser.add_argument("--data-dir", default=None, help="raw data folder ($POSTHOC_DATA)")
    parser.add_argument("--compact", action="store_true",
                        help="afterwards, pack the store's finished cells into one file")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be a positive integer")
    try:
        plan = _merged([group for chapter, settings in _narrowed(args).items()
                        for group in chapter_grids(chapter, args.profile, settings)])
    except ValueError as exc:
        parser.error(str(exc))
    plan = [(cells, run) for cells, run in plan if cells]
    if not plan:
        parser.error("the selection leaves no cell to run")
    # A SIGTERM ends the run as Ctrl-C does: finished cells stay, the run is logged.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    folder = Path(args.results) if args.results else results_folder(args.profile)
    store = ResultStore(folder)
    try:
        store.check_writable()
    except ValueError as exc:
        parser.error(str(exc))
    start = time.perf_counter()
    finished = total = 0
    for cells, settings in plan:
        rows = run_grid(cells, settings, store, workers=args.workers,
                        scheduler=args.scheduler, data_dir=args.data_dir)
        finished, total = finished + len(rows), total + len(cells)
    print(f"{finished} of {total} cells in {folder} "
          f"({time.perf_counter() - start:.1f} s this run)", file=sys.stderr)
    if args.compact:
        print(f"{store.compact()} cells packed into {store.folder / store.PACKED}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    # Run the imported module's main, not this script's copy: what it submits to a Dask
    # cluster must be pickled by reference to posthoc.repro.study, which workers import,
    # not to __main__, which they cannot.
    from posthoc.repro.study import main as imported_main
    raise SystemExit(imported_main())


__all__ = ["Cell", "PAPER_STUDY", "ResultStore", "Settings", "STUDY_CHAPTERS", "beyond_grids",
           "cell_id", "cell_key", "chapter_grid", "chapter_grids", "chapter_rows", "code_commit",
           "identifier_of", "process_start",
           "dirty_cells", "grid", "main", "prepare_networks", "profile_grid", "profile_plan",
           "run_cell", "run_grid", "save_csv", "stored_table", "study_rows"]
