"""The book's two profiles, and the study's fixed choices.

A :class:`Profile` (``quick`` or ``paper``) holds every setting that differs between the two:
seeds, training budget, the methods' budgets. Each chapter's defaults are derived from it by
the chapter's record (:mod:`posthoc.repro.chapters`), the study grid is built from those
defaults (:func:`posthoc.repro.grids.chapter_grid`), and ``python -m posthoc.repro.study``
reads the same objects, so the chapters, the study and the command line cannot disagree.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..paths import user_folder
from ..data import CONFIGURATIONS, PAPER_CONFIGURATIONS
from ..methods import METHODS

#: The configurations of Tables 1 and 3 (the paper's: COMPAS by race only).
TABLE_CONFIGS = ("adult-sex", "bank-age", "compas-race")
#: The network variants of the ablation (Figure 1, plots 7-8), and the paper's own network.
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "default": {"width": 32, "depth": 10, "dropout": 0.2},
    "dropout-0.5": {"width": 32, "depth": 10, "dropout": 0.5},
    "width-64": {"width": 64, "depth": 10, "dropout": 0.2},
    "depth-20": {"width": 32, "depth": 20, "dropout": 0.2},
}
ABLATION_ARCHS = ("dropout-0.5", "width-64", "depth-20")
ABLATION_CONFIGS = ("adult-sex", "bank-age")
#: The paper's methods (the registry holds more: the modern baselines of "Beyond the paper").
PAPER_METHODS = ("default", "random", "layerwise", "adversarial", "roc", "eqodds",
                 "calibeqodds")
#: The post-processing methods of today's libraries, beside the paper's in "Beyond the paper".
MODERN_METHODS = ("thresholdopt", "fairpredictor")
#: The methods swept over the tolerance for the fairness-accuracy frontier.
FRONTIER_METHODS = ("default", "random", "adversarial", "thresholdopt", "fairpredictor")
#: The configurations with more than two groups.
MULTIGROUP_CONFIGS = ("adult-sex-race", "compas-race-all")
#: German credit's configurations, from the paper's final version ("Beyond the paper").
GERMAN_CONFIGS = tuple(name for name, config in CONFIGURATIONS.items()
                       if config.dataset == "german")
#: Methods the paper leaves out of the ablation.
NOT_IN_ABLATION = ("layerwise",)


@dataclass(frozen=True)
class Profile:
    """Every setting that differs between the quick and the paper profile.

    ``method_options`` holds, per method, only the options that differ from the method's
    registered defaults (so the paper profile's is empty).
    """

    name: str
    description: str
    network_seeds: tuple[int, ...]       # Tables 1 and 3, Appendix A
    study_seeds: tuple[int, ...]         # the main comparison and the ablation
    max_epochs: int
    n_estimators: int
    n_deltas: int
    method_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    lam: float = 0.75
    n_boot: int = 2000
    regression_config: str = "adult-sex"
    own_model_epochs: int = 5                # the own-model chapter's training epochs
    # The authors'-code switches: networks, configurations and measures they are run on.
    switch_seeds: tuple[int, ...] = (0,)
    switch_configs: tuple[str, ...] = ("compas-race",)
    switch_measures: tuple[str, ...] = ("spd",)
    # "Beyond the paper": its configurations (German credit's of the final version too),
    # measures and seeds.
    beyond_configs: tuple[str, ...] = ("adult-sex", "compas-race") + GERMAN_CONFIGS
    beyond_measures: tuple[str, ...] = ("spd",)
    beyond_seeds: tuple[int, ...] = (0,)

    def option(self, method: str, name: str) -> Any:
        """The value of a method's option in this profile."""
        return self.method_options.get(method, {}).get(name, METHODS[method].defaults[name])


PROFILES: dict[str, Profile] = {
    "quick": Profile(
        "quick", "a few small networks and reduced budgets: the whole book in minutes",
        network_seeds=(0, 1), study_seeds=(0,), max_epochs=40, n_estimators=30, n_deltas=200,
        method_options={"random": {"trials": 20},
                        "adversarial": {"epochs": 2, "critic_steps": 50, "actor_steps": 25},
                        "layerwise": {"calls": 12, "layers": ["head"]}}),
    "paper": Profile(
        "paper", "the paper's settings: 10 seeds, 1001-epoch budget, full method budgets",
        network_seeds=tuple(range(10)), study_seeds=tuple(range(10)), max_epochs=1001,
        n_estimators=100, n_deltas=1000, own_model_epochs=30, switch_seeds=(0, 1, 2),
        switch_configs=("adult-sex", "bank-age", "compas-race", "compas-sex"),
        switch_measures=("spd", "eod", "aod"),
        beyond_configs=PAPER_CONFIGURATIONS + GERMAN_CONFIGS,
        beyond_measures=("spd", "eod", "aod"), beyond_seeds=(0, 1, 2, 3, 4)),
}


def check_profile(profile: Any) -> Profile:
    """The :class:`Profile` named ``profile``."""
    if profile not in PROFILES:
        raise parameter_error("profile", profile, "one of " + ", ".join(map(repr, PROFILES)))
    return PROFILES[profile]


def results_folder(profile: str) -> Path:
    """Where a profile's results live: ``$POSTHOC_RESULTS/<profile>`` if set, else
    ``results/<profile>`` of the source checkout posthoc is imported from (where the
    paper-scale results are committed), else the per-user cache."""
    chosen = os.environ.get("POSTHOC_RESULTS")
    if chosen:
        return Path(chosen).expanduser() / profile
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "pyproject.toml").is_file() and (checkout / "posthoc").is_dir():
        return checkout / "results" / profile
    return user_folder("POSTHOC_RESULTS", "results") / profile


def ablation_methods() -> list[str]:
    """The paper's methods the ablation runs."""
    return [m for m in PAPER_METHODS if m not in NOT_IN_ABLATION]


def budget_options() -> dict[str, str]:
    """Each registered method's budget option (:attr:`posthoc.Option.budget`) by its name:
    the chapters' budget parameters (``trials``, ``calls``, ``epochs``) and the method each
    one sets.

    Examples
    --------
    >>> budget_options()["calls"]
    'layerwise'
    """
    return {spec.budget: name for name, spec in METHODS.items() if spec.budget}


def budgets(p: Profile, methods) -> dict[str, Any]:
    """The profile's budget of each of ``methods`` that has one, by the option's name."""
    return {METHODS[m].budget: p.option(m, METHODS[m].budget) for m in methods
            if METHODS[m].budget}


def parameter_error(name: str, value: Any, expected: str) -> ValueError:
    """The error a bad parameter of a chapter or the study gets."""
    return ValueError(f"Parameter {name}={value!r} is not allowed; expected {expected}.")


__all__ = ["ABLATION_ARCHS", "ABLATION_CONFIGS", "ARCHITECTURES", "FRONTIER_METHODS",
           "GERMAN_CONFIGS", "MODERN_METHODS", "MULTIGROUP_CONFIGS", "PAPER_METHODS", "PROFILES",
           "Profile", "TABLE_CONFIGS", "ablation_methods", "budget_options", "budgets",
           "check_profile", "parameter_error", "results_folder"]
