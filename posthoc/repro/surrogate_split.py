"""Where a layer-wise cell's surrogate time goes: per layer, the processor time of the
optimiser's steps (the surrogate refitted on every point so far, then the acquisition),
under each objective, with each node's best splits remembered for the fit and without.

Remembering is exact (the same trees either way, :mod:`posthoc.methods.gbrt`); it saves
time only where a node recurs, which needs objective values that tie. So the table says how
much of a constrained cell's extra time is the remembering it cannot use.

``python -m posthoc.repro.surrogate_split`` runs one cell's network (the committed paper
network of compas-race, seed 0, by default) four times: weighted and constrained (ε = 0.05),
remembering on and off, each on one thread; it prints one row per layer and run.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from typing import Sequence

import pandas as pd

from ..debias import debias
from ..methods.gbrt import FastGBRT
from ..threads import single_threaded
from ..training import train_network
from .cells import cell_dataset
from .profiles import ARCHITECTURES


class TimedGBRT(FastGBRT):
    """:class:`FastGBRT` that adds up the processor time of its steps after the initial
    points (each one surrogate fit and one acquisition)."""

    def __init__(self, dims: int, **options):
        super().__init__(dims, **options)
        self.step_s = 0.0
        self.steps = 0

    def ask(self, n_points: int | None = None) -> list[list[float]]:
        start = time.process_time()
        asked = super().ask(n_points)
        if n_points is None and len(self.Xi) >= self.n_initial_points:
            self.step_s += time.process_time() - start
            self.steps += 1
        return asked


def layer_split(network, split, *, objective: str, remember: bool, measure: str = "spd",
                seed: int = 0, epsilon: float = 0.05, calls: int = 100) -> pd.DataFrame:
    """One layer-wise run of ``network`` on ``split``: per layer, its weights, the steps'
    processor time and the distinct objective values among the points the last step saw."""
    optimisers: list[TimedGBRT] = []

    def factory(dims: int, seed: int) -> TimedGBRT:
        optimisers.append(TimedGBRT(dims, seed=seed, remember=remember))
        return optimisers[-1]

    tolerance = {"epsilon": epsilon} if objective != "weighted" else {}
    with single_threaded():
        debias(copy.deepcopy(network), split, "layerwise", measure=measure, seed=seed,
               objective=objective, calls=calls, optimiser_factory=factory, threads=1,
               **tolerance)
    return pd.DataFrame([{"objective": objective, "remember": remember, "layer": i,
                          "weights": o.dims, "steps": o.steps, "step_s": o.step_s,
                          "distinct_values": len(set(o.yi))}
                         for i, o in enumerate(optimisers)])


def split_table(config: str = "compas-race", *, arch: str = "default", seed: int = 0,
                measure: str = "spd", calls: int = 100, max_epochs: int = 1001,
                data_dir: str | None = None) -> pd.DataFrame:
    """:func:`layer_split` under both objectives, remembering on and off."""
    dataset = cell_dataset(config, "aif360", data_dir)
    network = train_network(dataset, seed=seed, max_epochs=max_epochs, progress=False,
                            **ARCHITECTURES[arch])
    return pd.concat([layer_split(network, dataset.valid, objective=objective,
                                  remember=remember, measure=measure, seed=seed, calls=calls)
                      for objective in ("weighted", "constrained")
                      for remember in (True, False)], ignore_index=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.surrogate_split",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="compas-race")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--measure", default="spd")
    parser.add_argument("--calls", type=int, default=100, help="calls per layer (default 100)")
    parser.add_argument("--epochs", type=int, default=1001,
                        help="the network's training budget (default 1001: the paper's)")
    args = parser.parse_args(argv)
    table = split_table(args.config, seed=args.seed, measure=args.measure, calls=args.calls,
                        max_epochs=args.epochs)
    print(table.round(2).to_string(index=False))
    totals = table.groupby(["objective", "remember"])["step_s"].sum().unstack("remember")
    print("\nsteps' processor time in all (s), by remembering:")
    print(totals.round(1).to_string())
    return 0


if __name__ == "__main__":
    sys.exit(main())
