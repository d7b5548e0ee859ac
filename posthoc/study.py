"""The study as a grid of cells, each run written atomically to a results store.

A cell is one (configuration, architecture, seed, measure, method). Running it debiases the
seed's network with the method and evaluates the result on the validation and the test
split; the outcome is one tidy row. Each finished cell is written to its own parquet file
(written to a temporary name, then renamed), so an interrupted run loses nothing finished,
and a rerun skips what is done.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

import pandas as pd

from ._validation import check_choice
from .data import CONFIGURATIONS
from .metrics import MEASURES

#: The paper's network and the three variants of its ablation (Figure 1, plots 7-8).
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "default": {"width": 32, "depth": 10, "dropout": 0.2},
    "dropout-0.5": {"width": 32, "depth": 10, "dropout": 0.5},
    "width-64": {"width": 64, "depth": 10, "dropout": 0.2},
    "depth-20": {"width": 32, "depth": 20, "dropout": 0.2},
}


@dataclass(frozen=True)
class Cell:
    """One run of the study."""

    config: str
    arch: str
    seed: int
    measure: str
    method: str

    def __post_init__(self) -> None:
        from .debias import METHODS

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

    def key(self) -> dict:
        return {"lam": self.lam, "max_epochs": self.max_epochs,
                "method_options": {m: dict(sorted(o.items()))
                                   for m, o in sorted(self.method_options.items())}}


def cell_id(cell: Cell, settings: Settings) -> str:
    """A stable name for the cell's result: a hash of the cell and the settings."""
    text = json.dumps({"cell": asdict(cell), "settings": settings.key()}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def grid(*, configs: Iterable[str], seeds: Iterable[int], measures: Iterable[str],
         methods: Iterable[str], archs: Iterable[str] = ("default",)) -> list[Cell]:
    """Every combination, in a stable order."""
    return [Cell(c, a, int(s), m, meth) for c in configs for a in archs for s in seeds
            for m in measures for meth in methods]


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(__file__).resolve().parent, timeout=10)
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class ResultStore:
    """A folder of finished cells, one parquet file each, written atomically."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def done(self) -> set[str]:
        if not self.folder.is_dir():
            return set()
        return {p.stem for p in self.folder.glob("*.parquet")}

    def write(self, identifier: str, row: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        os.close(handle)
        try:
            pd.DataFrame([row]).to_parquet(temporary, index=False)
            os.replace(temporary, self.folder / f"{identifier}.parquet")
        finally:
            if os.path.exists(temporary):
                os.remove(temporary)

    def load(self) -> pd.DataFrame:
        files = sorted(self.folder.glob("*.parquet")) if self.folder.is_dir() else []
        if not files:
            return pd.DataFrame()
        return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def prepare_networks(cells: Sequence[Cell], settings: Settings, *, progress: bool = False,
                     data_dir: str | Path | None = None) -> None:
    """Train (or find in the cache) every network the cells need, all seeds of a dataset
    and architecture in one batched call."""
    from .data import load_dataset
    from .training import train_networks

    groups: dict[tuple[str, str], set[int]] = {}
    for cell in cells:
        dataset = CONFIGURATIONS[cell.config].dataset
        groups.setdefault((dataset, cell.arch), set()).add(cell.seed)
    for (dataset, arch), seeds in groups.items():
        config = next(c.config for c in cells
                      if CONFIGURATIONS[c.config].dataset == dataset and c.arch == arch)
        train_networks(load_dataset(config, data_dir=data_dir), seeds=sorted(seeds),
                       max_epochs=settings.max_epochs, progress=progress,
                       **ARCHITECTURES[arch])


def run_cell(cell: Cell, settings: Settings, *, data_dir: str | Path | None = None) -> dict:
    """Run one cell and return its tidy row."""
    from . import __version__
    from .data import load_dataset
    from .debias import debias, evaluate
    from .training import train_network

    dataset = load_dataset(cell.config, data_dir=data_dir)
    network = train_network(dataset, seed=cell.seed, max_epochs=settings.max_epochs,
                            progress=False, **ARCHITECTURES[cell.arch])
    result = debias(network, dataset.valid, cell.method, measure=cell.measure,
                    lam=settings.lam, seed=cell.seed,
                    **settings.method_options.get(cell.method, {}))
    row: dict[str, Any] = {**asdict(cell), "lam": settings.lam,
                           "max_epochs": settings.max_epochs,
                           "method_options": json.dumps(
                               settings.method_options.get(cell.method, {}), sort_keys=True),
                           "threshold": float(result.threshold),
                           "runtime_s": float(result.runtime_s)}
    for split_name in ("valid", "test"):
        for key, value in evaluate(result, getattr(dataset, split_name)).items():
            row[f"{split_name}_{key}"] = value
    row.update({"version": __version__, "commit": _commit(),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return row


def run_grid(cells: Sequence[Cell], settings: Settings, store: ResultStore, *,
             progress: bool = True, data_dir: str | Path | None = None) -> pd.DataFrame:
    """Run every cell not yet in ``store``, writing each as it finishes; return all rows of
    the grid (finished before or now)."""
    from tqdm import tqdm

    identifiers = [cell_id(cell, settings) for cell in cells]
    done = store.done()
    todo = [(cell, i) for cell, i in zip(cells, identifiers) if i not in done]
    if todo:
        prepare_networks([cell for cell, _ in todo], settings, progress=progress,
                         data_dir=data_dir)
    for cell, identifier in tqdm(todo, desc="study cells", unit="cell", disable=not progress):
        row = run_cell(cell, settings, data_dir=data_dir)
        row["cell_id"] = identifier
        store.write(identifier, row)
    rows = store.load()
    if rows.empty:
        return rows
    return rows[rows["cell_id"].isin(identifiers)].reset_index(drop=True)


__all__ = ["ARCHITECTURES", "Cell", "ResultStore", "Settings", "cell_id", "grid",
           "prepare_networks", "run_cell", "run_grid"]
