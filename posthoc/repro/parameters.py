"""Every chapter's parameters: their defaults in a profile, from the chapter's record
(:mod:`posthoc.repro.chapters`), and their checks.

A chapter's ``parameters`` cell holds plain literals (``None``: the profile's value); the
cell after it calls :func:`resolve_notebook`, which rejects any bad value before work starts,
with a ``ValueError`` naming the parameter, the value and the allowed values.
"""

from __future__ import annotations

import textwrap
from typing import Any, Mapping

from ..data import CONFIGURATIONS
from ..methods import METHODS
from ..metrics import MEASURES
from ..validation import (Constraint, check_value, distinct_list, integer, is_fraction,
                          list_of, number)
from .chapters import CHAPTERS
from .profiles import (ABLATION_ARCHS, PROFILES, budget_options, check_profile,
                       parameter_error)


def chapter_defaults(chapter: str, profile: str) -> dict[str, Any]:
    """A chapter's parameters with the profile's values (its record's ``parameters``)."""
    if chapter not in CHAPTERS:
        _fail("chapter", chapter, "one of " + ", ".join(map(repr, CHAPTERS)))
    return CHAPTERS[chapter].parameters(check_profile(profile))


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
    raise parameter_error(name, value, expected)


def _choice(values) -> Constraint:
    values = list(values)
    return Constraint("one of " + ", ".join(values), lambda v: v in values, ("nope",))


#: A number in (0, 1): a bias tolerance.
FRACTION = Constraint("a number in (0, 1)", is_fraction, (0, 1, "0.1", True), float)


def common_checks() -> dict[str, Constraint]:
    """The constraint on each parameter any chapter may have (a chapter's record may narrow
    one, or add its own: :attr:`posthoc.repro.chapters.Chapter.checks`)."""
    return {
        "configs": list_of(CONFIGURATIONS), "measures": list_of(MEASURES),
        "methods": list_of(METHODS), "archs": list_of(ABLATION_ARCHS),
        "frontier_methods": list_of(METHODS), "multigroup_configs": list_of(CONFIGURATIONS),
        "method": _choice(METHODS), "measure": _choice(MEASURES),
        "regression_config": _choice(CONFIGURATIONS),
        "seed": integer(0), "seeds": distinct_list(integer(0), "integers >= 0"),
        "epsilon": FRACTION, "epsilons": distinct_list(FRACTION, "numbers in (0, 1)"),
        "options": Constraint("a dict of the method's options by name, e.g. {'calls': 12}",
                              lambda v: isinstance(v, dict) and all(isinstance(k, str)
                                                                    for k in v), ([1],)),
        "workers": Constraint("an integer >= 0 (0: one process per core)",
                              integer(0).accepts, (-1, 1.5)),
        "lam": number(0, 1, low_open=False),
        **{name: integer(1) for name in ("max_epochs", "n_estimators", "n_deltas", "n_boot",
                                         *budget_options())},
    }


def parameter_checks(chapter: str) -> dict[str, Constraint]:
    """Each parameter's constraint, for ``chapter``: the common ones, then its record's."""
    return {**common_checks(), **CHAPTERS[chapter].checks}


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
    checks = parameter_checks(chapter)
    resolved = dict(defaults)
    for name, value in parameters.items():
        if value is not None:
            resolved[name] = check_value("Parameter", name, value, checks[name])
    return resolved


__all__ = ["FRACTION", "chapter_defaults", "common_checks", "describe_settings",
           "own_model_options", "parameter_checks", "resolve", "resolve_notebook"]
