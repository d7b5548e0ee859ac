"""Run by ``make wheel`` with the throwaway venv's Python, outside the checkout: the installed
wheel holds every subpackage and data file, and one debias call works from it."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path

import numpy as np
import torch

import posthoc
from posthoc.repro.paper import paper_numbers

def main() -> None:
    venv = Path(sys.argv[1]).resolve()
    where = Path(posthoc.__file__).resolve()
    assert venv in where.parents, f"posthoc imported from {where}, not from the wheel in {venv}"
    modules = [m.name for m in pkgutil.walk_packages(posthoc.__path__, "posthoc.")]
    for name in modules:
        importlib.import_module(name)
    assert {"posthoc.methods.random", "posthoc.repro.study", "posthoc.methods.gbrt"} <= set(modules)
    assert len(paper_numbers()) == 55, "posthoc/repro/paper_numbers.csv is missing from the wheel"

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    a = (rng.random(300) < 0.5).astype(np.int64)
    y = ((X[:, 0] + a) > 0.5).astype(np.int64)
    split = posthoc.Split(X, y, a)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1),
                                torch.nn.Sigmoid())
    result = posthoc.debias(model, split, "random", measure="spd", trials=5, seed=0)
    assert result.predict(X).shape == (300,) and np.isfinite(result.objective)
    print(f"wheel check: posthoc {posthoc.__version__} from {where.parent}, "
          f"{len(modules)} modules, "
          f"one debias (objective {result.objective:.4f})")


if __name__ == "__main__":
    main()
