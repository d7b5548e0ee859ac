"""The trained networks committed beside the paper's results, and the network cache filled
from them before anything is trained.

``results/<profile>/networks`` holds one network file per network the profile's chapters
and study use (:mod:`posthoc.network_files`: safetensors, named by the cache key of
:func:`posthoc.training.cache_key`), and ``SHA256SUMS`` listing each. Networks trained on
another processor can differ in their last bits, and so can every number computed from
them; committing the networks makes a fresh clone compute from the very weights the
committed results came from.

``python -m posthoc.repro.network_store train`` trains (or finds in the network cache) every
network of :func:`posthoc.repro.network_plan.network_sets`, copies exactly those into the
committed folder, and writes ``index.csv``: one row per file, with its configuration,
architecture, seed, budget, label coding, restore, training version, epochs, validation
accuracy, and the numerical setting, processor and torch that trained it.

``python -m posthoc.repro.network_store fill`` copies every listed network whose checksum
matches into the network cache (``$POSTHOC_CACHE``), leaving networks already there alone;
``make book`` runs it before executing the chapters. ``python -m posthoc.repro.network_store
export --from DIR`` copies the network files of ``DIR`` (a network cache a paper-profile build
filled) into the committed folder and rewrites ``SHA256SUMS``.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from ..atomic import atomic_bytes, atomic_copy
from ..data import load_dataset, sha256
from ..diagnostics import network_health
from ..network_files import NETWORK_NAME, cache_dir, read_network
from ..networks import PaperNet
from ..training import TRAINING_VERSION
from . import network_plan
from .profiles import ARCHITECTURES, results_folder
from .study import save_csv

#: The folder of committed networks inside a profile's results.
NETWORKS = "networks"
#: The checksum file in it.
SUMS = "SHA256SUMS"
#: The index of the committed networks.
INDEX = "index.csv"
#: Largest checksum file read.
MAX_SUMS_BYTES = 2 ** 20
_LINE = re.compile(r"([0-9a-f]{64})  (\S+)")


def store_folder(profile: str = "paper") -> Path:
    """The folder of networks committed with ``profile``'s results."""
    return results_folder(profile) / NETWORKS


def listed(folder: str | Path) -> dict[str, str]:
    """File name -> checksum, from ``folder``'s ``SHA256SUMS`` (empty when there is none)."""
    path = Path(folder) / SUMS
    if not path.is_file():
        return {}
    if path.stat().st_size > MAX_SUMS_BYTES:
        raise ValueError(f"{path} holds more than {MAX_SUMS_BYTES} bytes; expected one line "
                         "per network.")
    sums = {}
    for number, line in enumerate(path.read_text(encoding="ascii").splitlines(), start=1):
        match = _LINE.fullmatch(line)
        if not match or not NETWORK_NAME.fullmatch(match.group(2)):
            raise ValueError(f"{path} line {number} is {line[:80]!r}; expected '<sha256>  "
                             "<24 hex digits>.safetensors'.")
        sums[match.group(2)] = match.group(1)
    return sums


def fill_cache(folder: str | Path | None = None, cache: str | Path | None = None) -> dict:
    """Copy every network listed in ``folder`` (default :func:`store_folder`) into ``cache``
    (default the network cache) unless it is there; return counts ``copied`` and
    ``present``. A listed file that is missing or whose checksum differs is a ValueError:
    a committed network is never silently replaced by a fresh one."""
    folder = Path(folder) if folder is not None else store_folder()
    cache = Path(cache) if cache is not None else cache_dir()
    counts = {"copied": 0, "present": 0}
    for name, checksum in listed(folder).items():
        target = cache / name
        if target.is_file():
            counts["present"] += 1
            continue
        source = folder / name
        if not source.is_file() or sha256(source) != checksum:
            raise ValueError(f"committed network {source} is missing or its SHA-256 differs "
                             f"from {folder / SUMS}; expected {checksum}.")
        atomic_copy(source, target)
        counts["copied"] += 1
    return counts


def export(source: str | Path, folder: str | Path | None = None, *,
           names: Iterable[str] | None = None) -> int:
    """Copy the network files of ``source`` (those in ``names`` if given) into ``folder``,
    each read first so that only files :func:`posthoc.network_files.save_network` wrote are
    taken, then rewrite ``SHA256SUMS`` over every network in ``folder``; return how many
    were copied."""
    source = Path(source)
    folder = Path(folder) if folder is not None else store_folder()
    folder.mkdir(parents=True, exist_ok=True)
    wanted = None if names is None else set(names)
    copied = 0
    for path in sorted(source.iterdir()):
        if not NETWORK_NAME.fullmatch(path.name) or (wanted is not None
                                                     and path.name not in wanted):
            continue
        try:
            read_network(path)
        except ValueError as exc:
            raise ValueError(f"{path} is not a posthoc network ({exc}); nothing exported "
                             "from it.") from None
        if not (folder / path.name).is_file():
            atomic_copy(path, folder / path.name)
            copied += 1
    write_sums(folder)
    return copied


def write_sums(folder: str | Path) -> Path:
    """Write ``folder``'s ``SHA256SUMS`` over every network file in it."""
    folder = Path(folder)
    lines = [f"{sha256(path)}  {path.name}" for path in sorted(folder.iterdir())
             if NETWORK_NAME.fullmatch(path.name)]
    return atomic_bytes(folder / SUMS, "".join(line + "\n" for line in lines).encode("ascii"))


def index_rows(rows: list[dict], folder: str | Path,
               known: dict[tuple, dict] | None = None) -> pd.DataFrame:
    """``rows`` (:func:`posthoc.repro.network_plan.network_rows`) with what each network's
    file in ``folder`` records and its accuracy on its configuration's validation split;
    ``known`` maps (key, config) to rows already computed, which are taken as they are (and
    receives the new ones)."""
    folder = Path(folder)
    known = {} if known is None else known
    out, datasets = [], {}
    for row in rows:
        if (row["key"], row["config"]) in known:
            out.append(known[(row["key"], row["config"])])
            continue
        state, log = read_network(folder / f"{row['key']}.safetensors")
        key = (row["config"], row["labels"])
        data = datasets.setdefault(key, load_dataset(row["config"], labels=row["labels"]))
        net = PaperNet(data.train.X.shape[1], **ARCHITECTURES[row["arch"]])
        net.load_state_dict(state)
        health = network_health(net.eval(), data.valid)
        out.append({**row, "training_version": TRAINING_VERSION, "epochs": log["epochs"],
                    "best_epoch": log["best_epoch"],
                    "valid_accuracy": health["accuracy"], "failed": health["failed"],
                    "numerics": log.get("numerics", ""), "processor": log.get("processor", ""),
                    "torch": log.get("torch", "")})
        known[(row["key"], row["config"])] = out[-1]
    return pd.DataFrame(out)


def indexed(folder: str | Path) -> dict[tuple, dict]:
    """The rows of ``folder``'s ``index.csv`` by (key, config), for :func:`index_rows`
    (empty when there is none)."""
    path = Path(folder) / INDEX
    if not path.is_file():
        return {}
    # round_trip: the default parser can move a float's last bit, which a rewrite keeps.
    rows = pd.read_csv(path, keep_default_na=False,
                       float_precision="round_trip").to_dict("records")
    return {(row["key"], row["config"]): row for row in rows}


def commit_plan(profile: str = "paper", *, folder: str | Path | None = None,
                workers: int | None = 1, seeds_at_once: int | None = None,
                configs: Sequence[str] | None = None) -> Path:
    """Train every network of ``profile``'s plan (those in the network cache are read, not
    trained) and, as each set is trained, copy it into ``folder`` (default
    :func:`store_folder`) with its ``SHA256SUMS`` and ``index.csv``; return the folder. A run
    stopped half-way leaves every finished set in ``folder``, and a new run trains only the
    rest once ``folder`` has filled the cache."""
    folder = Path(folder) if folder is not None else store_folder(profile)
    rows = network_plan.network_rows(profile)
    if listed(folder):
        fill_cache(folder)
    known = indexed(folder)

    def after(item: network_plan.NetworkSet) -> None:
        done = [row for row in rows if (row["config"], row["arch"], row["labels"])
                == (item.config, item.arch, item.labels) and row["seed"] in item.seeds]
        export(cache_dir(), folder, names={f"{row['key']}.safetensors" for row in done})
        # Every network of the plan in the folder, so that a resumed run keeps the index
        # whole while it walks the sets that earlier runs trained.
        present = [row for row in rows if (folder / f"{row['key']}.safetensors").is_file()]
        save_csv(index_rows(present, folder, known), folder / INDEX)

    network_plan.train_all(profile, workers=workers, seeds_at_once=seeds_at_once, after=after,
                           configs=configs)
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.network_store",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["fill", "export", "train"])
    parser.add_argument("--from", dest="source", type=Path,
                        help="export: the network cache to take the networks from; fill: "
                             "the committed folder to fill from (default: the profile's)")
    parser.add_argument("--profile", default="paper",
                        help="whose committed networks (default: paper)")
    parser.add_argument("--into", type=Path,
                        help="train: the folder to commit the networks to (default: the "
                             "profile's results/<profile>/networks)")
    parser.add_argument("--workers", type=int, default=1,
                        help="train: processes training at once (default 1)")
    parser.add_argument("--seeds-at-once", type=int, default=None,
                        help="train: at most this many seeds per batched call, each call "
                             "committed when it finishes (default: a set's every seed)")
    parser.add_argument("--configs", nargs="+", default=None,
                        help="train: only the networks of these configurations")
    args = parser.parse_args(argv)
    if args.action == "fill":
        counts = fill_cache(args.source or store_folder(args.profile))
        print(f"network cache {cache_dir()}: {counts['copied']} committed networks copied, "
              f"{counts['present']} already there")
        return 0
    if args.action == "train":
        try:
            folder = commit_plan(args.profile, folder=args.into, workers=args.workers,
                                 seeds_at_once=args.seeds_at_once, configs=args.configs)
        except ValueError as exc:
            parser.error(str(exc))
        print(f"networks committed in {folder}")
        return 0
    if args.source is None:
        parser.error("export needs --from DIR")
    copied = export(args.source, store_folder(args.profile))
    print(f"{copied} networks exported to {store_folder(args.profile)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["INDEX", "MAX_SUMS_BYTES", "NETWORKS", "SUMS", "commit_plan", "export", "fill_cache",
           "index_rows", "indexed", "listed", "main",
           "sha256", "store_folder", "write_sums"]
