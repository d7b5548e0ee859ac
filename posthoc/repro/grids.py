"""The study's grids: which cells each study chapter needs, with the settings they run
under, from the chapter's parameters and the profile; and their rows, read from the results
store and completed there."""

from __future__ import annotations

import json
from typing import Any, Sequence

import pandas as pd

from ..validation import check_choice
from ..methods import METHODS
from .cells import Cell, Settings, grid
from .parameters import chapter_defaults
from .chapters import STUDY_CHAPTERS
from .profiles import budget_options, check_profile
from .runner import study_groups


def _method_options(profile: str, settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile's method options with a chapter's budgets (:func:`posthoc.repro.profiles.
    budget_options`: ``trials``, ``calls``, ``epochs``) in place, keeping only values that differ from the registered defaults, so
    that a setting equal to a default leaves the cells' names unchanged."""
    options = {m: dict(o) for m, o in check_profile(profile).method_options.items()}
    for name, method in budget_options().items():
        if name in settings:
            options.setdefault(method, {})[name] = settings[name]
    kept = {m: {k: v for k, v in o.items() if v != METHODS[m].defaults[k]}
            for m, o in options.items()}
    return {m: o for m, o in kept.items() if o}


#: The chapters of the paper's study (the main comparison and the ablation); with "Beyond the
#: paper", the chapters whose results are study cells (their records' ``study``).
PAPER_STUDY = ("main_comparison", "ablations")


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
    return merged_groups(groups)


def chapter_grids(chapter: str, profile: str, settings: dict[str, Any] | None = None
                  ) -> list[tuple[list[Cell], Settings]]:
    """A study chapter's groups of cells, each with its settings."""
    check_choice("chapter", chapter, STUDY_CHAPTERS)
    if chapter == "beyond":
        return beyond_grids(profile, settings)
    return [chapter_grid(chapter, profile, settings)]


def merged_groups(groups: list[tuple[list[Cell], Settings]]) -> list[tuple[list[Cell], Settings]]:
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
    return merged_groups([group for chapter in chapters
                    for group in chapter_grids(chapter, profile)])


def profile_grid(profile: str) -> tuple[list[Cell], Settings]:
    """Every cell of a profile's paper study: each chapter's default grid (one settings
    object serves both, since the chapters share the profile's budgets)."""
    plan = profile_plan(profile, PAPER_STUDY)
    if len(plan) != 1:
        raise ValueError(f"the paper study's chapters should share one settings; got {plan}.")
    return plan[0]


def chapter_rows(chapter: str, profile: str, settings: dict[str, Any] | None = None, *,
                 workers: int | None = None, **kwargs: Any) -> pd.DataFrame:
    """The rows of every group of :func:`chapter_grids` (their missing cells run together,
    :func:`~posthoc.repro.runner.study_groups`), one table (the rows record each group's
    objective and tolerance)."""
    frames = study_groups(profile, chapter_grids(chapter, profile, settings), workers=workers,
                          **kwargs)
    frames = [f for f in frames if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


__all__ = ["PAPER_STUDY", "STUDY_CHAPTERS", "beyond_grids", "chapter_grid", "chapter_grids",
           "chapter_rows", "merged_groups", "profile_grid", "profile_plan"]
