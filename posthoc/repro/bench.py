"""Speed benchmarks: each runs the straightforward and the fast version side by side.

``python -m posthoc.repro.bench`` prints the Table 2 runtimes (below), then the layer-wise and the
random perturbation comparisons; ``--quick`` runs only the comparisons, on COMPAS with
smaller budgets.
``python -m posthoc.repro.bench random`` runs random perturbation on the same
network, data and random draws twice in one process: one trial at a time (copy the model,
perturb, forward, loop over a grid of 501 thresholds; as the authors wrote it) and all
trials as one batched computation (:func:`posthoc.debias` with ``"random"``). It checks that
both pick the same trial with the same objective and prints ``speedup: N.Nx`` last.

``python -m posthoc.repro.bench layerwise`` runs layer-wise optimisation of one 32 x 32 layer
(1,024 dimensions) with the same budget twice in one process: with scikit-optimize's own
``Optimizer`` (GBRT + LCB, as the authors' ``gbrt_minimize``) and with the compiled
re-implementation of the same surrogate and acquisition (:mod:`posthoc.methods.gbrt`). It
prints both times, their ratio and the best objective each found, then times the fast
version on every layer of the network (the paper's run; goal: at most 60 s on Adult).

``python -m posthoc.repro.bench fullrun`` runs layer-wise optimisation of every layer twice in
one process with the compiled optimiser, on the paper's COMPAS (race, EOD) and Adult
networks: the straightforward way (every node of every surrogate tree scanned, the whole
network run for every candidate) and the fast way (each node's best splits kept for the
fit, see :mod:`posthoc.methods.gbrt`; the part of the network upstream of the layer
computed once, see :func:`posthoc.methods.layerwise.downstream_of`). It checks that both
give the same result and prints ``layer-wise speedup on a full run (CONFIG): N.Nx`` last for
each.

``python -m posthoc.repro.bench table2`` times every method on the four configurations, beside
the paper's Table 2.

``--busy`` runs each comparison twice, on the machine as it is and beside one competing
CPU-bound process (:mod:`posthoc.repro.load`), and prints both ratios in a table at the end.

``python -m posthoc.repro.bench training`` trains the same seeds for the same fixed number of
epochs twice in one process: one network at a time with a plain PyTorch loop (``nn.Module``,
``torch.optim.Adam``, ``ReduceLROnPlateau``, a minibatch loop; the authors' procedure), and
all seeds at once with :func:`posthoc.train_networks`, both on one core (the loop on one
thread, the batched trainer in one process of one thread; ``--workers N`` gives it N
processes). It prints both times and their ratio.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from typing import Sequence

import pandas as pd
import torch
from torch import nn

from ..data import Dataset, load_dataset
from ..debias import debias
from ..methods import METHODS
from ..methods.gbrt import FastGBRT
from ..methods.layerwise import layerwise_optimisation, linear_layers
from ..methods.random import random_perturbation, random_perturbation_loop
from ..networks import PaperNet
from ..threads import check_threads, limited_threads
from ..training import BATCH_SIZE, train_network, train_networks
from .load import competing_process
from .paper import paper_numbers


def train_one_at_a_time(dataset: Dataset, *, seeds: Sequence[int], epochs: int,
                        width: int = 32, depth: int = 10, dropout: float = 0.2) -> list[nn.Module]:
    """The straightforward loop: one network after another, one minibatch after another."""
    X_train = torch.from_numpy(dataset.train.X)
    y_train = torch.from_numpy(dataset.train.y).float()
    X_valid = torch.from_numpy(dataset.valid.X)
    y_valid = torch.from_numpy(dataset.valid.y).float()
    networks = []
    for seed in seeds:
        torch.manual_seed(seed)
        model = PaperNet(X_train.shape[1], width=width, depth=depth, dropout=dropout)
        loss_fn = nn.BCELoss()
        optimiser = torch.optim.Adam(model.parameters())
        scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimiser)
        for _ in range(epochs):
            model.train()
            for batch in torch.split(torch.randperm(X_train.shape[0]), BATCH_SIZE):
                if len(batch) < 2:
                    continue
                optimiser.zero_grad()
                loss = loss_fn(model(X_train[batch]), y_train[batch])
                loss.backward()
                optimiser.step()
            model.eval()
            with torch.no_grad():
                scheduler.step(loss_fn(model(X_valid), y_valid))
        networks.append(model.eval())
    return networks


def bench_training(config: str = "adult-sex", *, n_seeds: int = 10, epochs: int = 2,
                   workers: int = 1, data_dir: str | None = None) -> dict:
    """Time both trainers on the same seeds and epoch budget; return the figures. The plain
    loop runs on one thread; the batched trainer in ``workers`` processes of one thread each
    (default 1: the same one core, as the study's cells run)."""
    dataset = load_dataset(config, data_dir=data_dir)
    seeds = list(range(n_seeds))
    print(f"training benchmark: {config}, {n_seeds} seeds x {epochs} epochs "
          f"({len(dataset.train)} training rows, minibatches of {BATCH_SIZE}); the loop on one "
          f"thread, the batched trainer in {workers} process(es) of one thread", flush=True)
    start = time.perf_counter()
    with limited_threads(1):
        train_one_at_a_time(dataset, seeds=seeds, epochs=epochs)
    loop_s = time.perf_counter() - start
    print(f"one network at a time (plain PyTorch loop): {loop_s:8.2f} s "
          f"({loop_s / (n_seeds * epochs):.2f} s per network-epoch)", flush=True)
    start = time.perf_counter()
    train_networks(dataset, seeds=seeds, max_epochs=epochs, early_stopping=False, cache=False,
                   progress=False, workers=workers)
    batched_s = time.perf_counter() - start
    print(f"all seeds at once (posthoc.train_networks): {batched_s:8.2f} s "
          f"({batched_s / (n_seeds * epochs):.2f} s per network-epoch)", flush=True)
    ratio = loop_s / batched_s
    print(f"training speedup: {ratio:.1f}x")
    return {"config": config, "seeds": n_seeds, "epochs": epochs, "workers": workers,
            "loop_s": loop_s, "batched_s": batched_s, "ratio": ratio}


def bench_random(config: str = "adult-sex", *, trials: int | None = None, seed: int = 0,
                 measure: str = "spd", network_epochs: int = 1001,
                 data_dir: str | None = None, threads: int | str = 1) -> dict:
    """Time straightforward and batched random perturbation; return the figures. The loop
    runs on one thread, the batched version on ``threads`` (``"auto"``: one per idle core
    when it starts)."""
    dataset = load_dataset(config, data_dir=data_dir)
    network = train_network(dataset, seed=0, max_epochs=network_epochs, progress=False)
    settings = METHODS["random"].resolve({"trials": trials, "grid": 501} if trials else
                                         {"grid": 501})
    trials = settings["trials"]
    print(f"random perturbation benchmark: {config}, {trials} trials, measure {measure}, "
          f"{len(dataset.valid)} validation rows, grid of 501 thresholds", flush=True)
    def report(label: str, seconds: float, found: dict) -> None:
        print(f"{label:25s}{seconds:8.2f} s   best trial {found['trial']}, "
              f"objective {found['objective']:.6f}, threshold {found['threshold']:.3f}",
              flush=True)

    print("one trial at a time (numpy masks, sklearn accuracy_score per threshold, as the "
          "authors' loop), one thread:", flush=True)
    with limited_threads(1):
        start = time.perf_counter()
        slow = random_perturbation_loop(copy.deepcopy(network), dataset.valid,
                                        measure=measure, lam=0.75, seed=seed, trials=trials,
                                        std=settings["std"], grid=501)
        loop_s = time.perf_counter() - start
    report("", loop_s, slow)
    with limited_threads(check_threads(threads)) as used:
        start = time.perf_counter()
        fast = random_perturbation(copy.deepcopy(network), dataset.valid, measure=measure,
                                   lam=0.75, seed=seed,
                                   **{k: v for k, v in settings.items() if k != "best_state"})
        batched_s = time.perf_counter() - start
    report(f"all trials batched, {_threads(used)}:", batched_s, fast)
    same = fast["trial"] == slow["trial"] and abs(fast["objective"] - slow["objective"]) < 1e-12
    print(f"same trial and objective: {'yes' if same else 'NO'}")
    ratio = loop_s / batched_s
    print(f"speedup: {ratio:.1f}x")
    return {"config": config, "trials": trials, "loop_s": loop_s, "batched_s": batched_s,
            "same": same, "ratio": ratio, "threads": used}


def bench_layerwise(config: str = "adult-sex", *, layer: str = "body.4",
                    calls: int | None = None,
                    seed: int = 0, measure: str = "spd", network_epochs: int = 1001,
                    full: bool = True, data_dir: str | None = None,
                    threads: int | str = 1) -> dict:
    """Time layer-wise optimisation of ``layer`` with scikit-optimize (one thread) and with
    the compiled optimiser (``threads``; ``"auto"``: one per idle core when it starts), same
    budget, same scoring, then, if ``full``, the compiled one on every layer; return the
    figures."""
    dataset = load_dataset(config, data_dir=data_dir)
    network = train_network(dataset, seed=0, max_epochs=network_epochs, progress=False)
    calls = calls or METHODS["layerwise"].defaults["calls"]
    dims = {name: m.weight.numel() for name, m in linear_layers(network)}
    if layer not in dims:
        raise ValueError(f"layer={layer!r} is not allowed; the network's layers are "
                         f"{', '.join(dims)}.")
    print(f"layer-wise benchmark: {config}, layer {layer} ({dims[layer]} weights), {calls} "
          f"calls, measure {measure}, {len(dataset.valid)} validation rows", flush=True)
    figures = {"config": config, "layer": layer, "calls": calls}
    for name in ("skopt", "gbrt"):
        with limited_threads(1 if name == "skopt" else check_threads(threads)) as used:
            start = time.perf_counter()
            found = layerwise_optimisation(
                copy.deepcopy(network), dataset.valid, measure=measure, lam=0.75, seed=seed,
                **METHODS["layerwise"].resolve({"calls": calls, "layers": [layer],
                                                "optimiser": name}))
            figures[f"{name}_s"] = time.perf_counter() - start
        figures[f"{name}_objective"] = found["objective"]
        figures[f"{name}_threads"] = used
        label = {"skopt": "scikit-optimize Optimizer (GBRT + LCB), ",
                 "gbrt": "compiled GBRT + LCB (posthoc), "}[name] + f"{_threads(used)}:"
        print(f"{label:42s}{figures[f'{name}_s']:8.2f} s   best objective "
              f"{found['objective']:.6f}", flush=True)
    figures["ratio"] = figures["skopt_s"] / figures["gbrt_s"]
    figures["threads"] = figures["gbrt_threads"]         # the fast version's, as bench_random
    print(f"layer-wise speedup on one layer: {figures['ratio']:.1f}x", flush=True)
    if full:
        start = time.perf_counter()
        found = layerwise_optimisation(copy.deepcopy(network), dataset.valid, measure=measure,
                                       lam=0.75, seed=seed,
                                       **METHODS["layerwise"].resolve({"calls": calls}))
        figures["full_s"] = time.perf_counter() - start
        print(f"compiled, every layer ({len(dims)} layers, {sum(dims.values())} weights, "
              f"{calls * len(dims)} evaluations): {figures['full_s']:.1f} s, best objective "
              f"{found['objective']:.6f} in {found['layer']}", flush=True)
    return figures


def bench_layerwise_run(config: str = "compas-race", *, calls: int | None = None,
                        layers: Sequence[str] | None = None, seed: int = 0,
                        measure: str = "eod", network_epochs: int = 1001,
                        data_dir: str | None = None) -> dict:
    """Time layer-wise optimisation of the whole network (or ``layers``) twice: the
    straightforward way (every node of every surrogate tree scanned, the whole network run
    for every candidate) and the fast way (each node's best splits kept for the fit, the
    part of the network upstream of the layer computed once). Both must give the same
    result; return the figures and print the ratio last."""
    dataset = load_dataset(config, data_dir=data_dir)
    network = train_network(dataset, seed=0, max_epochs=network_epochs, progress=False)
    options = METHODS["layerwise"].resolve({"calls": calls, "layers": layers} if calls else
                                           {"layers": layers})
    options.pop("optimiser_factory")
    print(f"layer-wise, full run: {config}, {options['calls']} calls per layer, measure "
          f"{measure}, layers {', '.join(layers) if layers else 'all'}, one thread",
          flush=True)
    figures: dict = {"config": config}
    found = {}
    for fast in (False, True):
        def factory(dims: int, seed: int, fast: bool = fast) -> FastGBRT:
            return FastGBRT(dims, seed=seed, n_points=options["n_points"], remember=fast)
        key = "fast_s" if fast else "straightforward_s"
        with limited_threads(1):
            start = time.perf_counter()
            found[fast] = layerwise_optimisation(copy.deepcopy(network), dataset.valid,
                                                 measure=measure, lam=0.75, seed=seed,
                                                 optimiser_factory=factory,
                                                 reuse_upstream=fast, **options)
            figures[key] = time.perf_counter() - start
        label = ("nodes remembered, upstream computed once:" if fast
                 else "every node scanned, whole network:")
        print(f"{label:44s}{figures[key]:8.2f} s   best objective "
              f"{found[fast]['objective']:.6f} in {found[fast]['layer']}", flush=True)
    figures["same"] = all(found[False][k] == found[True][k]
                          for k in ("objective", "layer", "threshold", "layer_objectives"))
    print(f"same result: {'yes' if figures['same'] else 'NO'}")
    figures["ratio"] = figures["straightforward_s"] / figures["fast_s"]
    print(f"layer-wise speedup on a full run ({config}): {figures['ratio']:.1f}x", flush=True)
    return figures


def bench_table2(configs=("adult-sex", "bank-age", "compas-sex", "compas-race"), *,
                 methods=("roc", "eqodds", "calibeqodds", "random", "layerwise",
                          "adversarial"),
                 measure: str = "spd", network_epochs: int = 1001,
                 data_dir: str | None = None):
    """Runtime of each method on each configuration (the shape of the paper's Table 2).

    One run per method and configuration, on the seed-0 network, with the paper's settings;
    the paper's seconds stand beside ours.
    """
    rows = []
    for config in configs:
        dataset = load_dataset(config, data_dir=data_dir)
        network = train_network(dataset, seed=0, max_epochs=network_epochs, progress=False)
        for method in methods:
            result = debias(network, dataset.valid, method, measure=measure, seed=0)
            rows.append({"method": method, "config": config, "runtime_s": result.runtime_s})
            print(f"{config:12s} {method:12s} {result.runtime_s:9.3f} s", flush=True)
    ours = pd.DataFrame(rows).pivot(index="method", columns="config", values="runtime_s")
    paper = (paper_numbers("table2").pivot(index="model_or_method", columns="config",
                                           values="mean"))
    table = pd.concat({"ours (s)": ours, "paper (s)": paper.reindex(index=ours.index,
                                                                     columns=ours.columns)},
                      axis=1)
    with pd.option_context("display.width", 200, "display.max_columns", None,
                           "display.float_format", "{:.3f}".format):
        print(table)
    return table


def _runs(args) -> list[tuple[str, object]]:
    """The comparisons ``args`` asks for, as (name, function returning its figures)."""
    quick, data = args.quick, args.data_dir
    fullrun = ([("fullrun", lambda: bench_layerwise_run(
        "compas-race", calls=40, layers=["body.0", "body.36"], network_epochs=40,
        data_dir=data))] if quick else
        [(f"fullrun {c}", lambda c=c: bench_layerwise_run(c, data_dir=data))
         for c in ("compas-race", "adult-sex")])
    threads = args.threads if args.threads == "auto" else int(args.threads)
    layerwise = [("layerwise", (lambda: bench_layerwise(
        "compas-race", calls=40, network_epochs=40, full=False, data_dir=data,
        threads=threads)) if quick
        else (lambda: bench_layerwise(args.config, data_dir=data, threads=threads)))]
    config, epochs = ("compas-race", 40) if quick else (args.config, 1001)
    random = [("random", lambda: bench_random(config, trials=args.trials,
                                              network_epochs=epochs, data_dir=data,
                                              threads=threads))]
    seeds, train_epochs = (4, 1) if quick else (args.seeds, args.epochs)
    training = [("training", lambda: bench_training(
        "compas-race" if quick else args.config, n_seeds=seeds, epochs=train_epochs,
        workers=args.workers, data_dir=data))]
    chosen = {"all": fullrun + layerwise + random, "fullrun": fullrun,
              "layerwise": layerwise, "random": random, "training": training}
    return chosen.get(args.what, [])


def run_comparisons(runs, *, busy: bool) -> pd.DataFrame:
    """Run each comparison idle and, if ``busy``, again beside one competing CPU-bound
    process (:func:`posthoc.repro.load.competing_process`); one row per comparison and
    condition with its ratio, printed as a table at the end."""
    rows = []
    for name, run in runs:
        rows.append({"comparison": name, "machine": "idle", **_ratio(run())})
        print(flush=True)
        if busy:
            print(f"{name}, again beside one competing CPU-bound process:", flush=True)
            with competing_process():
                rows.append({"comparison": name, "machine": "busy", **_ratio(run())})
            print(flush=True)
    frame = pd.DataFrame(rows)
    names = [n for n, _ in runs]
    machines = [c for c in ("idle", "busy") if c in set(frame["machine"])]
    table = frame.pivot(index="comparison", columns="machine", values="ratio")
    table = table.reindex(index=names, columns=machines)
    table.columns.name = table.index.name = None
    threads = frame.pivot(index="comparison", columns="machine", values="threads")
    shown = pd.DataFrame({m: [f"{table.loc[n, m]:.1f}x ({_threads(threads.loc[n, m])})"
                              for n in names] for m in machines}, index=names)
    print("speedup (straightforward time / fast time), with the fast version's threads:")
    print(shown.to_string())
    return table


def _ratio(figures: dict) -> dict:
    """A comparison's ratio and the threads its fast version ran on (one where it says
    nothing else)."""
    return {"ratio": figures["ratio"], "threads": figures.get("threads", 1)}


def _threads(count) -> str:
    return f"{int(count)} thread{'s' if int(count) > 1 else ''}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all",
                        choices=["all", "random", "layerwise", "fullrun", "training",
                                 "table2"],
                        help="which benchmark to run (default: all = table2, the full "
                             "layer-wise runs, layerwise, then random; with --quick: the same "
                             "without table2, on small settings)")
    parser.add_argument("--quick", action="store_true",
                        help="small settings on COMPAS (race) with a 40-epoch network "
                             "(random: 201 trials; layerwise: one layer, 40 calls, without "
                             "the every-layer run; training: 4 seeds x 1 epoch)")
    parser.add_argument("--busy", action="store_true",
                        help="run each comparison twice: on the machine as it is, then "
                             "beside one competing CPU-bound process; print both ratios")
    parser.add_argument("--threads", default="1", choices=["1", "2", "auto"],
                        help="threads of the fast versions of random perturbation and the "
                             "layer-wise optimiser (default 1: as posthoc.debias and the "
                             "study's cells run a method; auto: one per idle core when each "
                             "version starts); the straightforward versions run on one thread")
    parser.add_argument("--config", default="adult-sex", help="configuration (default adult-sex)")
    parser.add_argument("--trials", type=int, default=METHODS["random"].defaults["trials"],
                        help="random: trials (default: the method's)")
    parser.add_argument("--seeds", type=int, default=10, help="training: seeds (default 10)")
    parser.add_argument("--epochs", type=int, default=2,
                        help="training: epochs per network (default 2)")
    parser.add_argument("--workers", type=int, default=1,
                        help="training: processes of the batched trainer (default 1: one "
                             "core, as the plain loop; the machine's cores to compare it "
                             "with the loop on the whole machine)")
    parser.add_argument("--data-dir", default=None, help="raw data folder ($POSTHOC_DATA)")
    args = parser.parse_args(argv)
    if min(args.seeds, args.epochs, args.trials, args.workers) < 1:
        parser.error("--seeds, --epochs, --trials and --workers must be positive integers")
    if args.what == "table2" or (args.what == "all" and not args.quick):
        bench_table2(data_dir=args.data_dir)
        print(flush=True)
    runs = _runs(args)
    if runs:
        run_comparisons(runs, busy=args.busy)
    return 0


if __name__ == "__main__":
    sys.exit(main())
