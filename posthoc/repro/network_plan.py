"""Every network a profile's chapters and study use, as records: what to train, and the cache
key each trained network is stored under.

The study's cells (:func:`posthoc.repro.study.profile_plan`), Tables 1 and 3 and Appendix A
(:data:`posthoc.repro.profiles.TABLE_CONFIGS`), the authors'-code switches and the
ablation's final weights (one training run caches both the best and the final weights) all
train the paper's network through :func:`posthoc.train_networks`; :func:`network_sets`
lists those calls, :func:`train_all` makes them, and :func:`network_keys` names the files
they leave in the network cache, so that exactly these are committed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterator, Sequence

from tqdm import tqdm

from ..data import CONFIGURATIONS, load_dataset
from ..training import cache_key, train_networks
from .profiles import ARCHITECTURES, TABLE_CONFIGS, check_profile
from .study import profile_plan

#: The datasets from the smallest to the largest.
SIZE_ORDER = ("german", "compas", "adult", "bank")
#: The restores a training run caches (both, whichever is asked for).
RESTORES = ("best", "final")


@dataclass(frozen=True)
class NetworkSet:
    """One batched training call: a configuration's networks of one architecture."""

    config: str
    arch: str
    seeds: tuple[int, ...]
    max_epochs: int
    labels: str = "aif360"

    def keys(self, data=None) -> Iterator[tuple[int, str, str]]:
        """(seed, restore, cache key) of every network file the call leaves in the cache."""
        data = load_dataset(self.config, labels=self.labels) if data is None else data
        for seed in self.seeds:
            for restore in RESTORES:
                yield seed, restore, cache_key(
                    data.train, data.valid, seed=seed, max_epochs=self.max_epochs,
                    early_stopping=True, restore=restore, **ARCHITECTURES[self.arch])


def network_sets(profile: str = "paper") -> list[NetworkSet]:
    """Every training call of ``profile``'s chapters and study, each (configuration,
    architecture, label coding) once with the union of its seeds, in a stable order."""
    p = check_profile(profile)
    wanted: dict[tuple[str, str, str], set[int]] = {}

    def add(config: str, arch: str, seeds, labels: str = "aif360") -> None:
        wanted.setdefault((config, arch, labels), set()).update(int(s) for s in seeds)

    for cells, settings in profile_plan(profile):
        for cell in cells:
            add(cell.config, cell.arch, [cell.seed], settings.labels)
    for config in TABLE_CONFIGS:
        add(config, "default", p.network_seeds)
    for config in p.switch_configs:
        add(config, "default", p.switch_seeds)
    # The paper's network before the ablation's, the smallest data first: a run stopped
    # half-way has the networks most of the book needs.
    order = {arch: rank for rank, arch in enumerate(ARCHITECTURES)}
    return sorted((NetworkSet(config, arch, tuple(sorted(seeds)), p.max_epochs, labels)
                   for (config, arch, labels), seeds in wanted.items()),
                  key=lambda s: (order[s.arch],
                                 SIZE_ORDER.index(CONFIGURATIONS[s.config].dataset),
                                 s.config, s.labels))


def chunks(item: NetworkSet, size: int | None) -> list[NetworkSet]:
    """``item`` cut into sets of at most ``size`` seeds (all of them when None). A seed's
    network does not depend on the seeds trained beside it, so the networks are the same;
    smaller sets finish, and can be committed, sooner."""
    if size is None or size >= len(item.seeds):
        return [item]
    return [replace(item, seeds=item.seeds[start:start + size])
            for start in range(0, len(item.seeds), size)]


def train_all(profile: str = "paper", *, workers: int | None = 1, progress: bool = True,
              seeds_at_once: int | None = None,
              after: Callable[[NetworkSet], None] | None = None,
              configs: Sequence[str] | None = None) -> list[NetworkSet]:
    """Train (or find in the network cache) every network of :func:`network_sets` (of the
    configurations ``configs`` only, if given), at most ``seeds_at_once`` seeds per batched
    call, calling ``after(network_set)`` when each call's networks are in the cache."""
    if configs is not None:
        unknown = sorted(set(configs) - set(CONFIGURATIONS))
        if unknown:
            raise ValueError(f"configs={list(configs)!r} is not allowed: {unknown[0]!r} is not "
                             f"a configuration; expected names from {', '.join(CONFIGURATIONS)}.")
    sets = [part for item in network_sets(profile) for part in chunks(item, seeds_at_once)
            if configs is None or item.config in configs]
    for item in tqdm(sets, desc="network sets", disable=not progress):
        train_networks(load_dataset(item.config, labels=item.labels), seeds=list(item.seeds),
                       max_epochs=item.max_epochs, workers=workers, progress=progress,
                       **ARCHITECTURES[item.arch])
        if after is not None:
            after(item)
    return sets


def network_rows(profile: str = "paper") -> list[dict]:
    """One row per network file of ``profile``: its configuration, architecture, seed,
    budget, label coding, restore and cache key (the same key may serve several
    configurations that share their data)."""
    rows = []
    for item in network_sets(profile):
        data = load_dataset(item.config, labels=item.labels)
        for seed, restore, key in item.keys(data):
            rows.append({"key": key, "config": item.config, "arch": item.arch, "seed": seed,
                         "max_epochs": item.max_epochs, "labels": item.labels,
                         "restore": restore})
    return rows


__all__ = ["NetworkSet", "RESTORES", "SIZE_ORDER", "chunks", "network_rows", "network_sets",
           "train_all"]
