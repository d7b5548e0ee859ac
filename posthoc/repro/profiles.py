"""The book's two profiles and every chapter's parameters, from one source.

A :class:`Profile` (``quick`` or ``paper``) holds every setting that differs between the two:
seeds, training budget, the methods' budgets. Each chapter's defaults are derived from it
(:func:`chapter_defaults`), the study grid is built from those defaults
(:func:`posthoc.repro.study.chapter_grid`), and ``python -m posthoc.repro.study`` reads the
same objects, so the chapters, the study and the command line cannot disagree.

A chapter's ``parameters`` cell holds plain literals (``None``: the profile's value); the
cell after it calls :func:`resolve`, which rejects any bad value before work starts, with a
``ValueError`` naming the parameter and the allowed values.
"""

from __future__ import annotations

import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..paths import user_folder
from ..validation import is_fraction, is_integer
from ..data import CONFIGURATIONS, PAPER_CONFIGURATIONS
from ..methods import METHODS
from ..metrics import MEASURES

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
        _fail("profile", profile, "one of " + ", ".join(map(repr, PROFILES)))
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


def _method_budgets(p: Profile, *names: str) -> dict[str, Any]:
    keys = {"trials": ("random", "trials"), "calls": ("layerwise", "calls"),
            "epochs": ("adversarial", "epochs")}
    return {name: p.option(*keys[name]) for name in names}


#: Each chapter's parameters and their defaults in a profile.
CHAPTERS: dict[str, Callable[[Profile], dict[str, Any]]] = {
    "need_for_networks": lambda p: {
        "configs": list(TABLE_CONFIGS), "seeds": list(p.network_seeds),
        "max_epochs": p.max_epochs, "n_estimators": p.n_estimators},
    "sensitivity": lambda p: {
        "configs": list(TABLE_CONFIGS), "seeds": list(p.network_seeds),
        "max_epochs": p.max_epochs, "regression_config": p.regression_config,
        "n_deltas": p.n_deltas},
    "main_comparison": lambda p: {
        "configs": list(PAPER_CONFIGURATIONS), "measures": list(MEASURES),
        "methods": list(PAPER_METHODS),
        "seeds": list(p.study_seeds), "lam": p.lam,
        **_method_budgets(p, "trials", "calls", "epochs"), "workers": 0},
    "ablations": lambda p: {
        "configs": list(ABLATION_CONFIGS), "archs": list(ABLATION_ARCHS),
        "methods": ablation_methods(), "seeds": list(p.study_seeds), "lam": p.lam,
        **_method_budgets(p, "trials", "epochs"), "workers": 0},
    "reproducibility": lambda p: {"n_boot": p.n_boot, "workers": 0},
    "own_model": lambda p: {"epochs": p.own_model_epochs, "method": "random",
                            "measure": "spd", "lam": 0.5, "seed": 0,
                            **_method_budgets(p, "trials"), "options": None},
    "teaching": lambda p: {},
    "intro": lambda p: {},
    "beyond": lambda p: {
        "configs": list(p.beyond_configs), "measures": list(p.beyond_measures),
        "methods": list(PAPER_METHODS + MODERN_METHODS), "seeds": list(p.beyond_seeds),
        "lam": p.lam, "epsilon": 0.05, "epsilons": [0.01, 0.02, 0.05, 0.1],
        "frontier_methods": list(FRONTIER_METHODS),
        "multigroup_configs": list(MULTIGROUP_CONFIGS),
        **_method_budgets(p, "trials", "calls", "epochs"), "workers": 0},
}


def chapter_defaults(chapter: str, profile: str) -> dict[str, Any]:
    """A chapter's parameters with the profile's values."""
    if chapter not in CHAPTERS:
        _fail("chapter", chapter, "one of " + ", ".join(map(repr, CHAPTERS)))
    return CHAPTERS[chapter](check_profile(profile))


#: Names an IPython kernel defines that are not parameters.
_KERNEL_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open", "display"})
_LITERALS = (type(None), bool, int, float, str, list, tuple, dict)


def resolve_notebook(chapter: str, namespace: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`resolve` with every plain-literal variable of a notebook's namespace: the
    chapter's ``parameters`` cell and whatever papermill injected after it. Call it first
    thing after the parameters cell, so that a parameter the chapter does not have (say
    ``-p lam 2`` for a chapter without ``lam``) is refused instead of ignored.

    Examples
    --------
    >>> resolve_notebook("reproducibility", {"profile": "quick", "n_boot": 50,
    ...                                      "workers": None})["n_boot"]
    50
    >>> resolve_notebook("reproducibility", {"profile": "quick", "lam": 2})
    Traceback (most recent call last):
    ...
    ValueError: Parameter lam=2 is not allowed; expected one of the chapter's parameters: n_boot, workers.
    """
    parameters = {name: value for name, value in namespace.items()
                  if not name.startswith("_") and not name.isupper()   # constants imported
                  and name not in _KERNEL_NAMES and isinstance(value, _LITERALS)}
    if "profile" not in parameters:
        _fail("profile", None, "one of " + ", ".join(map(repr, PROFILES)))
    return resolve(chapter, parameters.pop("profile"), **parameters)


def describe_settings(profile: str, settings: Mapping[str, Any], *, width: int = 76) -> str:
    """The profile and the settings a chapter resolved, wrapped to ``width`` characters (a
    code box's width in the book).

    Examples
    --------
    >>> print(describe_settings("quick", {"seeds": [0], "lam": 0.75}))
    profile 'quick': seeds=[0], lam=0.75
    """
    text = f"profile {profile!r}: " + ", ".join(f"{k}={v}" for k, v in settings.items())
    return textwrap.fill(text, width, subsequent_indent="  ", break_on_hyphens=False)


def _fail(name: str, value: Any, expected: str) -> None:
    raise ValueError(f"Parameter {name}={value!r} is not allowed; expected {expected}.")


def _list_of(valid) -> Callable[[Any], bool]:
    valid = list(valid)
    return lambda v: (isinstance(v, (list, tuple)) and len(v) > 0 and len(set(v)) == len(v)
                      and all(isinstance(x, str) and x in valid for x in v))


def _is_int(v: Any, minimum: int) -> bool:
    return is_integer(v) and v >= minimum


def _parameter_checks(chapter: str) -> dict[str, tuple[Callable[[Any], bool], str]]:
    """Each parameter's check and what it expects, for ``chapter``."""
    ablation = chapter == "ablations"
    configs = ABLATION_CONFIGS if ablation else tuple(CONFIGURATIONS)
    methods = ablation_methods() if ablation else list(METHODS)
    drawn = "a non-empty list of distinct values drawn from "
    return {
        "configs": (_list_of(configs), drawn + ", ".join(configs)),
        "measures": (_list_of(MEASURES), drawn + ", ".join(MEASURES)),
        "method": (lambda v: v in METHODS, "one of " + ", ".join(METHODS)),
        "measure": (lambda v: v in MEASURES, "one of " + ", ".join(MEASURES)),
        "seed": (lambda v: _is_int(v, 0), "a non-negative integer"),
        "methods": (_list_of(methods), drawn + ", ".join(methods)),
        "archs": (_list_of(ABLATION_ARCHS), drawn + ", ".join(ABLATION_ARCHS)),
        "frontier_methods": (_list_of(list(METHODS)), drawn + ", ".join(METHODS)),
        "multigroup_configs": (_list_of(tuple(CONFIGURATIONS)),
                               drawn + ", ".join(CONFIGURATIONS)),
        "epsilon": (is_fraction, "a number in (0, 1)"),
        "epsilons": (lambda v: isinstance(v, (list, tuple)) and len(v) > 0
                     and len(set(v)) == len(v) and all(is_fraction(e) for e in v),
                     "a non-empty list of distinct numbers in (0, 1)"),
        "seeds": (lambda v: isinstance(v, (list, tuple)) and len(v) > 0
                  and len(set(v)) == len(v) and all(_is_int(s, 0) for s in v),
                  "a non-empty list of distinct non-negative integers"),
        "options": (lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v),
                    "a dict of the method's options by name, e.g. {'calls': 12}"),
        "workers": (lambda v: _is_int(v, 0), "a non-negative integer (0: one process per core)"),
        "regression_config": (lambda v: v in CONFIGURATIONS, "one of " + ", ".join(CONFIGURATIONS)),
        "lam": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
                and 0 <= v <= 1, "a number in [0, 1]"),
        **{name: (lambda v: _is_int(v, 1), "a positive integer")
           for name in ("max_epochs", "n_estimators", "trials", "n_deltas", "calls", "epochs",
                        "n_boot")},
    }


def own_model_options(profile: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The options the own-model chapter passes to its method: the profile's budget for the
    method (without layer names, which name the paper network's layers), random
    perturbation's ``trials``, then the chapter's ``options``, each checked by the method.

    Examples
    --------
    >>> own_model_options("quick", {"method": "layerwise", "trials": 20, "options": None})
    {'calls': 12}
    >>> own_model_options("quick", {"method": "random", "trials": 4, "options": {"nope": 1}})
    Traceback (most recent call last):
    ...
    ValueError: Parameter options={'trials': 4, 'nope': 1} is not allowed: Unknown option 'nope' for method 'random'; valid options are: trials, std, grid, chunk, best_state.
    """
    method = settings["method"]
    options = {name: value for name, value in check_profile(profile).method_options
               .get(method, {}).items() if name != "layers"}
    if method == "random":
        options["trials"] = settings["trials"]
    options.update(settings["options"] or {})
    try:
        METHODS[method].resolve(options)
    except ValueError as exc:
        raise ValueError(f"Parameter options={options!r} is not allowed: {exc}") from None
    return options


def resolve(chapter: str, profile: str, **parameters: Any) -> dict[str, Any]:
    """Check a chapter's parameters and return them with the profile's defaults filled in.

    Raises
    ------
    ValueError
        Naming the parameter, the value and the allowed values.

    Examples
    --------
    >>> resolve("need_for_networks", "quick", seeds=None)["seeds"]
    [0, 1]
    >>> resolve("need_for_networks", "fast")
    Traceback (most recent call last):
    ...
    ValueError: Parameter profile='fast' is not allowed; expected one of 'quick', 'paper'.
    """
    defaults = chapter_defaults(chapter, profile)
    unknown = sorted(set(parameters) - set(defaults))
    if unknown:
        _fail(unknown[0], parameters[unknown[0]], "one of the chapter's parameters: "
              + ", ".join(sorted(defaults)))
    checks = _parameter_checks(chapter)
    resolved = dict(defaults)
    for name, value in parameters.items():
        if value is None:
            continue
        accepts, expected = checks[name]
        if not accepts(value):
            _fail(name, value, expected)
        resolved[name] = list(value) if isinstance(value, (list, tuple)) else value
    return resolved


__all__ = ["ABLATION_ARCHS", "ABLATION_CONFIGS", "ARCHITECTURES", "CHAPTERS", "FRONTIER_METHODS", "GERMAN_CONFIGS",
           "MODERN_METHODS", "MULTIGROUP_CONFIGS", "PAPER_METHODS", "PROFILES", "Profile",
           "TABLE_CONFIGS", "ablation_methods", "chapter_defaults", "check_profile",
           "describe_settings", "own_model_options", "resolve", "resolve_notebook",
           "results_folder"]
