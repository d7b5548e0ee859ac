"""Training the paper's network as the authors did, for many seeds at once, with a disk cache.

The authors trained one network at a time (Adam, ReduceLROnPlateau on the validation loss,
minibatches of 64, binary cross-entropy, early stopping checked every 10 epochs, at most 1001
epochs). :func:`train_networks` trains several seeds in one computation
(:mod:`posthoc.training_loop` on :mod:`posthoc.stacked`): the weights of all seeds are
stacked and every layer is one batched matrix product, so the per-step overhead of the
framework is paid once for all seeds. Each seed has its own random streams (initial
weights, minibatch order, dropout masks), its own optimiser state, learning-rate schedule and
early stopping, so a seed's network does not depend on which other seeds train beside it.
Trained networks are kept in a disk cache (:mod:`posthoc.network_files`), shared out among
worker processes when there are several.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import queue as queue_module
import warnings
from concurrent.futures import wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from .configurations import Dataset
from .network_files import cache_dir, network_path, read_network, save_network
from .networks import PaperNet
from .split import Split
from .training_loop import BATCH_SIZE, MAX_EPOCHS, TrainingLog, train_stacked
from .validation import check_positive_int, check_probability, check_seeds, error_summary
from .workers import process_pool

#: Bump when the training algorithm changes, so that cached networks are not reused.
TRAINING_VERSION = 3


def _fingerprint(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def cache_key(train: Split, valid: Split, *, seed: int, width: int, depth: int, dropout: float,
              max_epochs: int, early_stopping: bool, restore: str = "best") -> str:
    """Hash of everything that determines a trained network."""
    spec = {
        "data": _fingerprint(train.X, train.y, valid.X, valid.y),
        "seed": seed, "width": width, "depth": depth, "dropout": dropout,
        "max_epochs": max_epochs, "early_stopping": early_stopping,
        "batch_size": BATCH_SIZE, "version": TRAINING_VERSION, "torch": torch.__version__,
    }
    if restore != "best":   # the default leaves the keys of networks trained before it alone
        spec["restore"] = restore
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:24]


def _load_cached(path: Path) -> tuple[dict, TrainingLog] | None:
    """The state dict and log cached at ``path``, or None (then the network is trained): a
    truncated or foreign file is retrained, not trusted, and a warning names it."""
    if not path.is_file():
        return None
    try:
        state, record = read_network(path)
        log = TrainingLog(**record)
    except (ValueError, TypeError) as exc:
        warnings.warn(f"network cache file {path} is unreadable or not a posthoc network "
                      f"({error_summary(exc)}); training the network again.",
                      RuntimeWarning, stacklevel=3)
        return None
    log.from_cache = True
    return state, log


def _splits(dataset: Dataset | tuple[Split, Split]) -> tuple[Split, Split]:
    if isinstance(dataset, Dataset):
        return dataset.train, dataset.valid
    if (isinstance(dataset, tuple) and len(dataset) == 2
            and all(isinstance(s, Split) for s in dataset)):
        return dataset
    raise ValueError("dataset must be a posthoc.Dataset or a (train, valid) pair of "
                     f"posthoc.Split; got {type(dataset).__name__}.")


def train_networks(dataset: Dataset | tuple[Split, Split], *, seeds: Sequence[int],
                   width: int = 32, depth: int = 10, dropout: float = 0.2,
                   max_epochs: int = MAX_EPOCHS, early_stopping: bool = True,
                   restore: str = "best", cache: bool | str | Path = True,
                   progress: bool = True, workers: int | None = None,
                   return_logs: bool = False):
    """Train one :class:`PaperNet` per seed, all seeds in one batched computation.

    Parameters
    ----------
    dataset : Dataset or (train, valid) pair of Split
        Training data; the validation split drives the learning-rate schedule and early
        stopping, as in the authors' code.
    seeds : sequence of int
        One network per seed. A seed's network is the same whichever seeds train beside it.
    width, depth, dropout
        Architecture, as in :class:`PaperNet`.
    max_epochs : int, default 1001
        Epoch budget.
    early_stopping : bool, default True
        Every 10 epochs compare the validation loss with the best so far; after more than 10
        checks without improvement stop and restore the best weights.
    restore : {"best", "final"}, default "best"
        Which weights an early-stopped network keeps: those of its best validation check,
        or ``"final"``, the weights it stopped with. The authors' code meant to restore
        the best but kept an uncopied ``state_dict()``, so it kept the final weights. One
        training run gives both, and both are cached.
    cache : bool or path, default True
        Reuse networks saved on disk (``$POSTHOC_CACHE`` or ``~/.cache/posthoc/networks``, or
        the folder given), keyed by everything that determines them; save new ones there.
    progress : bool, default True
        Show a progress bar over epochs.
    workers : int, optional
        Processes to train in; the seeds are shared out among them and each trains its
        share in one batched computation on one thread. Defaults to the number of cores (at
        most the number of seeds to train). Results do not depend on it.
    return_logs : bool, default False
        Also return one :class:`TrainingLog` per seed.

    Returns
    -------
    list of PaperNet (in eval mode), and the logs if ``return_logs``.

    Examples
    --------
    >>> import numpy as np
    >>> from posthoc import Split
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3)); y = (X[:, 0] > 0).astype(int)
    >>> part = Split(X, y, (X[:, 1] > 0).astype(int))
    >>> nets = train_networks((part, part), seeds=[0, 1], width=8, depth=1,
    ...                       max_epochs=3, cache=False, progress=False)
    >>> len(nets), nets[0](torch.as_tensor(part.X)).shape
    (2, torch.Size([200]))
    """
    train, valid = _splits(dataset)
    seeds = check_seeds("seeds", seeds)
    check_positive_int("width", width)
    check_positive_int("depth", depth, minimum=0)
    check_probability("dropout", dropout)
    check_positive_int("max_epochs", max_epochs)
    if restore not in ("best", "final"):
        raise ValueError(f"restore must be 'best' or 'final'; got {restore!r}.")
    if len(train) < 2:
        raise ValueError(f"dataset's training split must hold at least 2 rows; got {len(train)}.")
    folder = None if cache is False else (cache_dir() if cache is True else Path(cache))
    spec = dict(width=width, depth=depth, dropout=float(dropout), max_epochs=max_epochs,
                early_stopping=bool(early_stopping), restore=restore)

    results: dict[int, tuple[dict, TrainingLog]] = {}
    keys = {seed: cache_key(train, valid, seed=seed, **spec) for seed in seeds}
    # One training run gives both the best and the final weights (the same trajectory), so
    # both are cached: asking for the other one later costs no training.
    other = "final" if restore == "best" else "best"
    other_keys = {seed: cache_key(train, valid, seed=seed, **{**spec, "restore": other})
                  for seed in seeds}
    if folder is not None:
        for seed in seeds:
            stored = _load_cached(network_path(folder, keys[seed]))
            if stored is not None:
                results[seed] = stored
    missing = [seed for seed in seeds if seed not in results]
    if missing:
        if workers is None:
            workers = min(os.cpu_count() or 1, len(missing))
        workers = min(check_positive_int("workers", workers), len(missing))
        trained = _train_in_workers(train, valid, missing, workers=workers,
                                    progress=progress, spec=spec)
        for seed, variants in zip(missing, trained):
            results[seed] = variants[restore]
            if folder is not None:
                for variant, key in ((restore, keys[seed]), (other, other_keys[seed])):
                    state, log = variants[variant]
                    save_network(state, log.__dict__, network_path(folder, key))

    networks = []
    for seed in seeds:
        net = PaperNet(train.X.shape[1], width=width, depth=depth, dropout=dropout)
        net.load_state_dict(results[seed][0])
        networks.append(net.eval())
    if return_logs:
        return networks, [results[seed][1] for seed in seeds]
    return networks


def train_network(dataset: Dataset | tuple[Split, Split], *, seed: int = 0, width: int = 32,
                  depth: int = 10, dropout: float = 0.2, **options) -> PaperNet:
    """Train one :class:`PaperNet` as the authors did; see :func:`train_networks`."""
    return train_networks(dataset, seeds=[seed], width=width, depth=depth, dropout=dropout,
                          **options)[0]


_PROGRESS = None  # a worker process's queue for epoch counts


def _init_worker(queue) -> None:
    global _PROGRESS
    _PROGRESS = queue


def _worker(train: Split, valid: Split, seeds: list[int], spec: dict):
    report = _PROGRESS.put if _PROGRESS is not None else None
    return train_stacked(train, valid, seeds, report=report, **spec)


def _train_in_workers(train: Split, valid: Split, seeds: list[int], *, workers: int,
                      progress: bool, spec: dict) -> list[dict[str, tuple[dict, TrainingLog]]]:
    """Share ``seeds`` out among ``workers`` processes (or train here if one); per seed, the
    ``"best"`` and the ``"final"`` weights with their logs."""
    groups = [seeds[i::workers] for i in range(workers)]
    bar = tqdm(total=spec["max_epochs"] * workers, disable=not progress, leave=False,
               desc=f"training {len(seeds)} network(s) in {workers} process(es)",
               unit="epoch")
    results: dict[int, dict[str, tuple[dict, TrainingLog]]] = {}
    try:
        if workers == 1:
            threads = torch.get_num_threads()
            torch.set_num_threads(1)  # the same single-threaded kernels as in the workers
            try:
                trained = train_stacked(train, valid, seeds, report=lambda n: bar.update(n),
                                         **spec)
            finally:
                torch.set_num_threads(threads)
            results.update(zip(seeds, trained))
        else:
            epochs_done = multiprocessing.get_context("spawn").Queue()
            try:
                with process_pool(workers, initializer=_init_worker,
                                  initargs=(epochs_done,)) as pool:
                    futures = {pool.submit(_worker, train, valid, group, spec): group
                               for group in groups}
                    pending = set(futures)
                    while pending:
                        _, pending = wait(pending, timeout=0.5)
                        try:
                            while True:
                                bar.update(epochs_done.get_nowait())
                        except queue_module.Empty:
                            pass
                    for future, group in futures.items():
                        results.update(zip(group, future.result()))
            except BrokenProcessPool:
                warnings.warn(
                    "train_networks could not start its worker processes (a script that "
                    "calls it needs an `if __name__ == '__main__':` guard); training "
                    "in this process instead, with the same results. Pass workers=1 to "
                    "skip the attempt.", RuntimeWarning, stacklevel=3)
                bar.close()
                return _train_in_workers(train, valid, seeds, workers=1, progress=progress,
                                         spec=spec)
    finally:
        bar.close()
    return [results[seed] for seed in seeds]


__all__ = ["BATCH_SIZE", "MAX_EPOCHS", "TRAINING_VERSION", "TrainingLog", "cache_dir",
           "cache_key", "train_network", "train_networks"]
