"""The book's chapters, one record each: its source, its title, what of the paper it covers,
its parameters with their defaults in each profile, whether it adds study cells, and where
it runs in the build.

Everything else is derived from the records: the order in which ``make book`` executes the
chapters (:data:`EXECUTION_ORDER`; the Makefile asks ``python -m posthoc.repro.chapters
sources``), the table of contents (``python -m posthoc.repro.chapters toc``, written to
``_toc.yml`` by ``make html``, in the records' reading order), the chapters whose cells the
study runs (:data:`STUDY_CHAPTERS`), and each chapter's parameters
(:func:`posthoc.repro.parameters.chapter_defaults`). A new chapter is its notebook and one
record here.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..data import PAPER_CONFIGURATIONS
from ..metrics import MEASURES
from ..validation import Constraint, integer, list_of
from .profiles import (ABLATION_ARCHS, ABLATION_CONFIGS, FRONTIER_METHODS, MODERN_METHODS,
                       MULTIGROUP_CONFIGS, PAPER_METHODS, TABLE_CONFIGS, Profile,
                       ablation_methods, budgets)

#: The folder of the chapters' jupytext sources, relative to the repository.
SOURCES = Path("notebooks")
#: Pages of the table of contents that are not chapters (no notebook), after the chapters.
EXTRA_PAGES = ("book/references",)


def no_parameters(profile: Profile) -> dict[str, Any]:
    """The parameters of a chapter that has none but the profile."""
    return {}


@dataclass(frozen=True)
class Chapter:
    """One chapter: its source ``notebooks/<name>.py`` becomes the page ``book/<name>``.

    ``order`` is its place in ``make book``'s execution (a chapter that reads another's
    results runs after it); ``parameters`` gives its parameters' defaults in a profile;
    ``study`` marks a chapter whose results are study cells
    (``python -m posthoc.repro.study --chapters``); ``folder`` holds its source; ``checks``
    constrains parameters of its own.
    """

    name: str
    title: str
    covers: str
    order: int
    parameters: Callable[[Profile], dict[str, Any]] = no_parameters
    study: bool = False
    #: The folder of its source, relative to the repository (or absolute).
    folder: Path = SOURCES
    #: Constraints on its parameters beyond the common ones
    #: (:func:`posthoc.repro.parameters.common_checks`), or narrower.
    checks: Mapping[str, Constraint] = field(default_factory=dict)

    @property
    def source(self) -> Path:
        return self.folder / f"{self.name}.py"

    @property
    def page(self) -> str:
        return f"book/{self.name}"


def _main_comparison(p: Profile) -> dict[str, Any]:
    return {"configs": list(PAPER_CONFIGURATIONS), "measures": list(MEASURES),
            "methods": list(PAPER_METHODS), "seeds": list(p.study_seeds), "lam": p.lam,
            **budgets(p, PAPER_METHODS), "workers": 0}


def _ablations(p: Profile) -> dict[str, Any]:
    return {"configs": list(ABLATION_CONFIGS), "archs": list(ABLATION_ARCHS),
            "methods": ablation_methods(), "seeds": list(p.study_seeds), "lam": p.lam,
            **budgets(p, ablation_methods()), "workers": 0}


def _beyond(p: Profile) -> dict[str, Any]:
    methods = PAPER_METHODS + MODERN_METHODS
    return {"configs": list(p.beyond_configs), "measures": list(p.beyond_measures),
            "methods": list(methods), "seeds": list(p.beyond_seeds), "lam": p.lam,
            "epsilon": 0.05, "epsilons": [0.01, 0.02, 0.05, 0.1],
            "frontier_methods": list(FRONTIER_METHODS),
            "multigroup_configs": list(MULTIGROUP_CONFIGS), **budgets(p, methods),
            "workers": 0}


#: Every chapter, in reading order (the table of contents' order).
CHAPTERS: dict[str, Chapter] = {c.name: c for c in (
    Chapter("intro", "Post-hoc methods for debiasing neural networks",
            "what holds of the paper, from the committed paper-scale results",
            # Executed after the reproducibility chapter, whose verdicts it reads: a paper
            # book re-derives claims.csv and comparison.csv before its first page reads them.
            order=7),
    Chapter("need_for_networks", "The need for neural networks",
            "Section 6 and Appendix A, Table 3", order=1,
            parameters=lambda p: {"configs": list(TABLE_CONFIGS),
                                  "seeds": list(p.network_seeds), "max_epochs": p.max_epochs,
                                  "n_estimators": p.n_estimators}),
    Chapter("sensitivity", "Sensitivity of bias to the seed",
            "Section 6 and Appendix A, Table 1 and Figure 2", order=2,
            parameters=lambda p: {"configs": list(TABLE_CONFIGS),
                                  "seeds": list(p.network_seeds), "max_epochs": p.max_epochs,
                                  "regression_config": p.regression_config,
                                  "n_deltas": p.n_deltas},
            # Appendix A's regressions are scored on a fifth of the deltas: R² needs two.
            checks={"n_deltas": Constraint("an integer >= 10 (the regressions are scored on "
                                           "a fifth of the deltas, and R² needs two)",
                                           integer(10).accepts, (9, 2.5, True, "12"), int)}),
    Chapter("main_comparison", "The main comparison", "Section 6, Figure 1 plots 1-6 and Table 2",
            order=3, parameters=_main_comparison, study=True),
    # The ablation reuses the main comparison's results.
    Chapter("ablations", "Ablations: other networks", "Section 6, Figure 1 plots 7-8", order=4,
            parameters=_ablations, study=True,
            checks={"configs": list_of(ABLATION_CONFIGS), "methods": list_of(ablation_methods())}),
    # Runs after every chapter that adds study cells, since it reads them all.
    Chapter("reproducibility", "Reproducibility",
            "every number and claim of the paper against ours", order=6,
            parameters=lambda p: {"n_boot": p.n_boot, "workers": 0}),
    Chapter("own_model", "Debias your own model",
            "beyond the paper: your model, your CSV files, save and load, the command line",
            order=8,
            parameters=lambda p: {"epochs": p.own_model_epochs, "method": "random",
                                  "measure": "spd", "lam": 0.5, "seed": 0,
                                  **budgets(p, ["random"]), "options": None}),
    Chapter("beyond", "Beyond the paper",
            "the final version's objective, today's baselines, one frontier, more than two groups",
            order=5, parameters=_beyond, study=True),
    Chapter("teaching", "Teaching with this book", "learning goals, times and exercises",
            order=9),
)}

#: The order in which ``make book`` executes the chapters.
EXECUTION_ORDER = tuple(sorted(CHAPTERS, key=lambda name: CHAPTERS[name].order))
#: The chapters whose results are study cells, in execution order.
STUDY_CHAPTERS = tuple(name for name in EXECUTION_ORDER if CHAPTERS[name].study)


def chapter(name: str) -> Chapter:
    """The record of the chapter ``name``."""
    if name not in CHAPTERS:
        raise ValueError(f"chapter={name!r} is not a chapter of the book; expected one of "
                         + ", ".join(CHAPTERS) + ".")
    return CHAPTERS[name]


def table_of_contents() -> str:
    """``_toc.yml``: the first chapter as the root, the others in reading order, then the
    pages that are not chapters."""
    first, *rest = CHAPTERS.values()
    lines = ["# Generated from posthoc.repro.chapters by `make html`; edit the records there.",
             "format: jb-book", f"root: {first.page}", "chapters:"]
    lines += [f"  - file: {page}" for page in [c.page for c in rest] + list(EXTRA_PAGES)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m posthoc.repro.chapters",
                                     description="What the build needs of the chapter records.")
    parser.add_argument("what", choices=["sources", "toc"],
                        help="sources: the chapters' sources in execution order; toc: _toc.yml")
    args = parser.parse_args(argv)
    if args.what == "sources":
        print(" ".join(str(CHAPTERS[name].source) for name in EXECUTION_ORDER))
    else:
        print(table_of_contents(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["CHAPTERS", "Chapter", "EXECUTION_ORDER", "EXTRA_PAGES", "SOURCES", "STUDY_CHAPTERS",
           "chapter", "no_parameters", "table_of_contents"]
