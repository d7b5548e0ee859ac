"""The study's unit: a cell (one configuration, architecture, seed, measure and method),
the settings it runs under, its key and name, and running it into one tidy row.

Running a cell debiases the seed's network with the method and evaluates the result on the
validation and the test split. A cell's key hashes what determines its numbers besides the
code; its name (id) adds the fingerprint of the code that computes it
(:mod:`posthoc.repro.fingerprint`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from .. import __version__, numerics
from ..validation import check_choice, check_seed, package_versions
from ..data import CONFIGURATIONS, LABEL_CODINGS, Dataset, default_data_dir, load_dataset
from ..debias import debias, evaluate, evaluation_keys
from ..diagnostics import network_health
from ..methods import METHODS, NotApplicable
from ..metrics import MEASURES
from ..objectives import OBJECTIVES, NoCertifiedCandidate
from ..threads import single_threaded
from ..training import TRAINING_VERSION, cache_key, train_network, train_networks
from .fingerprint import current_fingerprint
from .profiles import ARCHITECTURES


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
    """Every combination, in a stable order, but a method with a measure it does not support
    (:meth:`posthoc.MethodSpec.supports`); a value given twice counts once."""
    once = [list(dict.fromkeys(values)) for values in (configs, archs, seeds, measures, methods)]
    configs, archs, seeds, measures, methods = once
    return [Cell(c, a, check_seed(s), m, meth) for c in configs for a in archs for s in seeds
            for m in measures for meth in methods if METHODS.check(meth).supports(m)]



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


@functools.lru_cache(maxsize=8)
def _loaded(config: str, labels: str, folder: Path, record: int) -> Dataset:
    return load_dataset(config, labels=labels, data_dir=folder)


def cell_dataset(config: str, labels: str, data_dir: str | Path | None = None) -> Dataset:
    """:func:`posthoc.load_dataset`, loaded once per process and configuration: a copy of
    the dataset the first cell that needed it loaded. A process that runs many cells (the
    study's workers, a chapter's grid) otherwise reads and splits the same raw files again
    for every cell (0.4 s each on Adult)."""
    folder = (Path(data_dir) if data_dir is not None else default_data_dir()).expanduser()
    record = id(CONFIGURATIONS[check_choice("config", config, CONFIGURATIONS)])
    return copy.deepcopy(_loaded(config, labels, folder.resolve(), record))


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
        train_networks(cell_dataset(config, settings.labels, data_dir),
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
    dataset = cell_dataset(cell.config, settings.labels, data_dir)
    with single_threaded() as threads:
        network = train_network(dataset, seed=cell.seed, max_epochs=settings.max_epochs,
                                progress=False, **ARCHITECTURES[cell.arch])
        health = network_health(network, dataset.valid)
        cpu_start = time.process_time()
        result, error, applicable = _debiased(network, dataset, cell, settings)
        cpu_s = time.process_time() - cpu_start
        missing = {key: (None if key == "constant" else float("nan"))
                   for key in evaluation_keys()}
        evaluations = {split: missing if result is None else
                       evaluate(result, getattr(dataset, split)) for split in ("valid", "test")}
    certified = (result is not None if settings.objective == "certified" and applicable
                 else None)
    row = {**_settings_columns(cell, settings), **_result_columns(result, error, certified,
                                                                   cpu_s)}
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


def _debiased(network, dataset, cell: Cell, settings: Settings) -> tuple[Any, str, bool]:
    """The cell's debiased result (None where the method cannot run on the data or no
    candidate is certified), the reason for a missing one, and whether the method applied."""
    tolerance = ({"epsilon": settings.epsilon} if settings.objective != "weighted"
                 and settings.epsilon is not None else {})
    try:
        result = debias(network, dataset.valid, cell.method, measure=cell.measure,
                        lam=settings.lam, seed=cell.seed, objective=settings.objective,
                        threads=1, **tolerance, **settings.method_options.get(cell.method, {}))
    except (NoCertifiedCandidate, NotApplicable) as exc:
        return None, str(exc), isinstance(exc, NoCertifiedCandidate)
    return result, "", True


def _settings_columns(cell: Cell, settings: Settings) -> dict[str, Any]:
    return {**asdict(cell), "lam": settings.lam, "max_epochs": settings.max_epochs,
            "labels": settings.labels, "objective": settings.objective,
            "epsilon": float("nan") if settings.epsilon is None else settings.epsilon,
            "method_options": json.dumps(settings.method_options.get(cell.method, {}),
                                         sort_keys=True)}


def _result_columns(result, error: str, certified: bool | None, cpu_s: float
                    ) -> dict[str, Any]:
    nan = float("nan")
    return {"certified": certified, "error": error,
            "bias_bound": nan if result is None else float(result.details.get("bias_bound",
                                                                              nan)),
            "threshold": nan if result is None else result.threshold,
            "runtime_s": nan if result is None else result.runtime_s,
            # The processor time of the method (one thread): unlike the wall time, it
            # hardly changes when other processes share the machine.
            "cpu_s": nan if result is None else cpu_s}


__all__ = ["Cell", "Settings", "VERSIONED", "cell_dataset", "cell_id", "cell_key", "code_commit",
           "grid", "identifier_of", "prepare_networks", "run_cell", "versions_json"]
