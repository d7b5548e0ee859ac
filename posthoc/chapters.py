"""Parameters of the book's chapters: the two profiles and the checks papermill values pass.

Each chapter's ``parameters`` cell holds plain literals; the cell after it calls
:func:`resolve` which rejects any bad value before work starts, with a ``ValueError`` naming
the parameter and the allowed values, and fills the profile's defaults in.
"""

from __future__ import annotations

from typing import Any

from .data import CONFIGURATIONS
from .metrics import MEASURES

from .debias import METHODS as _METHODS

PROFILES = ("quick", "paper")

#: Defaults per chapter and profile; a parameter left at None takes these.
DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "need_for_networks": {
        "quick": {"configs": ["adult-sex", "bank-age", "compas-race"], "seeds": [0, 1],
                  "max_epochs": 40, "n_estimators": 30},
        "paper": {"configs": ["adult-sex", "bank-age", "compas-race"], "seeds": list(range(10)),
                  "max_epochs": 1001, "n_estimators": 100},
    },
    "sensitivity": {
        "quick": {"configs": ["adult-sex", "bank-age", "compas-race"], "seeds": [0, 1],
                  "max_epochs": 40, "regression_config": "adult-sex", "n_deltas": 200},
        "paper": {"configs": ["adult-sex", "bank-age", "compas-race"], "seeds": list(range(10)),
                  "max_epochs": 1001, "regression_config": "adult-sex", "n_deltas": 1000},
    },
    "main_comparison": {
        "quick": {"configs": ["adult-sex", "bank-age", "compas-race", "compas-sex"],
                  "measures": ["spd", "eod", "aod"], "methods": list(_METHODS), "seeds": [0],
                  "lam": 0.75, "trials": 20, "calls": 12, "epochs": 2, "workers": 0},
        "paper": {"configs": ["adult-sex", "bank-age", "compas-race", "compas-sex"],
                  "measures": ["spd", "eod", "aod"], "methods": list(_METHODS),
                  "seeds": list(range(10)), "lam": 0.75, "trials": 201, "calls": 100,
                  "epochs": 16, "workers": 0},
    },
    "ablations": {
        "quick": {"configs": ["adult-sex", "bank-age"],
                  "archs": ["dropout-0.5", "width-64", "depth-20"],
                  "methods": [m for m in _METHODS if m != "layerwise"], "seeds": [0],
                  "lam": 0.75, "trials": 20, "epochs": 2, "workers": 0},
        "paper": {"configs": ["adult-sex", "bank-age"],
                  "archs": ["dropout-0.5", "width-64", "depth-20"],
                  "methods": [m for m in _METHODS if m != "layerwise"],
                  "seeds": list(range(10)), "lam": 0.75, "trials": 201, "epochs": 16,
                  "workers": 0},
    },
    "reproducibility": {
        "quick": {"n_boot": 2000, "workers": 0},
        "paper": {"n_boot": 2000, "workers": 0},
    },
}

#: What a chapter's list parameters may hold, where it is narrower than the whole library.
_ALLOWED = {("ablations", "configs"): ("adult-sex", "bank-age"),
            ("ablations", "archs"): ("dropout-0.5", "width-64", "depth-20"),
            ("ablations", "methods"): tuple(m for m in _METHODS if m != "layerwise")}


def _fail(name: str, value: Any, expected: str) -> None:
    raise ValueError(f"Parameter {name}={value!r} is not allowed; expected {expected}.")


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
    if chapter not in DEFAULTS:
        _fail("chapter", chapter, "one of " + ", ".join(map(repr, DEFAULTS)))
    if profile not in PROFILES:
        _fail("profile", profile, "one of " + ", ".join(map(repr, PROFILES)))
    defaults = DEFAULTS[chapter][profile]
    unknown = sorted(set(parameters) - set(defaults))
    if unknown:
        _fail(unknown[0], parameters[unknown[0]], "one of the chapter's parameters: "
              + ", ".join(sorted(defaults)))
    resolved = dict(defaults)
    for name, value in parameters.items():
        if value is None:
            continue
        _check(name, value)
        allowed = _ALLOWED.get((chapter, name))
        if allowed is not None and any(v not in allowed for v in value):
            _fail(name, value, "a non-empty list drawn from " + ", ".join(allowed))
        resolved[name] = list(value) if isinstance(value, (list, tuple)) else value
    return resolved


def _check(name: str, value: Any) -> None:
    if name == "configs":
        if (not isinstance(value, (list, tuple)) or not value
                or any(v not in CONFIGURATIONS for v in value)):
            _fail(name, value, "a non-empty list drawn from " + ", ".join(CONFIGURATIONS))
    elif name == "measures":
        if (not isinstance(value, (list, tuple)) or not value
                or any(v not in MEASURES for v in value)):
            _fail(name, value, "a non-empty list drawn from " + ", ".join(MEASURES))
    elif name == "seeds":
        if (not isinstance(value, (list, tuple)) or not value or len(set(value)) != len(value)
                or any(isinstance(s, bool) or not isinstance(s, int) or s < 0 for s in value)):
            _fail(name, value, "a non-empty list of distinct non-negative integers")
    elif name in ("methods", "archs"):
        valid = _METHODS if name == "methods" else ("default", "dropout-0.5", "width-64",
                                                    "depth-20")
        if (not isinstance(value, (list, tuple)) or not value or len(set(value)) != len(value)
                or any(v not in valid for v in value)):
            _fail(name, value, "a non-empty list of distinct values drawn from "
                  + ", ".join(valid))
    elif name == "workers":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            _fail(name, value, "a non-negative integer (0: one process per core)")
    elif name in ("max_epochs", "n_estimators", "trials", "n_deltas", "calls", "epochs",
                  "n_boot"):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            _fail(name, value, "a positive integer")
    elif name.endswith("_config"):
        if value not in CONFIGURATIONS:
            _fail(name, value, "one of " + ", ".join(CONFIGURATIONS))
    elif name == "lam":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            _fail(name, value, "a number in [0, 1]")


__all__ = ["DEFAULTS", "PROFILES", "resolve"]
