"""Input checks shared by every public entry point of posthoc.

Each check raises ``ValueError`` (or ``TypeError``) with a message that names the argument,
the value received and what was expected, so that a bad call never ends in a traceback from
deep inside numpy, pandas or torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import metadata
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

LENGTH_MISMATCH = "{names} must have the same length along the last axis; got lengths {lengths}."
NOT_BINARY = "{name} must contain only 0 and 1; got values {values}."
NOT_FINITE = "{name} contains NaN or infinite values ({count} of them)."
BAD_NDIM = "{name} must be a {expected}; got an array of shape {shape}."
BAD_LAM = "lam must be a number in [0, 1]; got {value!r}."
UNKNOWN_CHOICE = "Unknown {name} {value!r}; valid values are: {valid}."
BAD_INT = "{name} must be an integer {constraint}; got {value!r}."
BAD_NUMBER = "{name} must be a number {constraint}; got {value!r}."
NOT_ALLOWED = "{kind} {name}={value!r} is not allowed; expected {expected}."


def is_integer(value: Any) -> bool:
    """Whether ``value`` is an integer (numpy's included), and not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def error_summary(error: BaseException) -> str:
    """``"TypeName: first line of the message"``, for an error raised deep inside a
    dependency and reported in one line of ours."""
    return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """The installed version of each package in ``names`` (``"unknown"`` if absent)."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "unknown"
    return versions


def as_tensor(name: str, value: Any, *, dtype: torch.dtype | None = None) -> torch.Tensor:
    """Convert ``value`` (numpy array, tensor, list, pandas object) to a CPU tensor."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach()
    else:
        if hasattr(value, "to_numpy"):  # pandas Series / DataFrame
            value = value.to_numpy()
        try:
            array = np.asarray(value)
        except Exception as exc:  # pragma: no cover - exotic inputs
            raise TypeError(f"{name} must be array-like; got {type(value).__name__}.") from exc
        if array.dtype == object or not (
            np.issubdtype(array.dtype, np.number) or array.dtype == bool
        ):
            raise TypeError(
                f"{name} must be a numeric array; got dtype {array.dtype} "
                f"({type(value).__name__})."
            )
        tensor = torch.from_numpy(np.ascontiguousarray(array))
    if dtype is not None:
        tensor = tensor.to(dtype)
    return tensor


def check_binary(name: str, values: torch.Tensor | np.ndarray) -> None:
    """Raise if ``values`` holds anything other than 0 and 1."""
    tensor = values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    if tensor.numel() == 0:
        return
    bad = (tensor != 0) & (tensor != 1)
    if bool(bad.any()):
        found = torch.unique(tensor[bad])[:5].tolist()
        raise ValueError(NOT_BINARY.format(name=name, values=found))


NOT_GROUPS = ("{name} must hold group codes 0, 1, ... (non-negative integers; 1 = privileged "
              "when there are two groups); got values {values}.")


def check_groups(name: str, values: torch.Tensor | np.ndarray) -> None:
    """Raise if ``values`` holds anything other than non-negative integer group codes."""
    tensor = values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    if tensor.numel() == 0:
        return
    bad = (tensor < 0) | (tensor != torch.round(tensor.to(torch.float64)).to(tensor.dtype))
    if bool(bad.any()):
        found = torch.unique(tensor[bad])[:5].tolist()
        raise ValueError(NOT_GROUPS.format(name=name, values=found))


ONE_GROUP = ("{name} holds one group only (code {code}); measuring bias needs at least two "
             "groups with members.")
TWO_GROUPS_CODED = ("{name} holds two groups coded {codes}; a two-group measure compares code "
                    "0 (unprivileged) with code 1 (privileged): code them 0 and 1.")


def check_measurable_groups(name: str, values: torch.Tensor | np.ndarray) -> None:
    """Raise unless ``values`` hold at least two groups with members, and two groups are coded
    0 and 1 (so that a two-group measure's sign is never taken from other codes). Three or
    more groups may have any non-negative codes: their measures are gaps between groups.

    Examples
    --------
    >>> check_measurable_groups("a", np.array([0, 2, 2]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: a holds two groups coded [0, 2]; a two-group measure compares code 0 ...
    """
    tensor = values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    codes = torch.unique(tensor).tolist()
    if len(codes) < 2:
        raise ValueError(ONE_GROUP.format(name=name, code=codes[0] if codes else None))
    if len(codes) == 2 and codes != [0, 1]:
        raise ValueError(TWO_GROUPS_CODED.format(name=name, codes=codes))


def check_finite(name: str, values: torch.Tensor | np.ndarray) -> None:
    """Raise if ``values`` holds NaN or infinite entries."""
    tensor = values if isinstance(values, torch.Tensor) else torch.as_tensor(np.asarray(values))
    if tensor.is_floating_point():
        count = int((~torch.isfinite(tensor)).sum())
        if count:
            raise ValueError(NOT_FINITE.format(name=name, count=count))


def check_same_length(**arrays: Sequence | torch.Tensor | np.ndarray) -> None:
    """Raise if the named arrays differ in length along their last axis."""
    lengths = {name: int(np.shape(a)[-1]) if np.ndim(a) else 0 for name, a in arrays.items()}
    if len(set(lengths.values())) > 1:
        names = ", ".join(arrays)
        raise ValueError(LENGTH_MISMATCH.format(names=names, lengths=lengths))


def check_lam(lam: Any) -> float:
    """Return ``lam`` as a float after checking it lies in [0, 1]."""
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating, np.integer)):
        raise ValueError(BAD_LAM.format(value=lam))
    if not 0.0 <= float(lam) <= 1.0:
        raise ValueError(BAD_LAM.format(value=lam))
    return float(lam)


def check_choice(name: str, value: Any, valid: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``valid``, else raise naming ``name``."""
    valid = list(valid)
    if not isinstance(value, str) or value not in valid:
        raise ValueError(UNKNOWN_CHOICE.format(name=name, value=value, valid=", ".join(valid)))
    return value


MAX_SEED = 2**32 - 1


def check_seed(seed: Any, name: str = "seed") -> int:
    """Return ``seed`` as an int after checking it is an integer in [0, 2**32 - 1]."""
    if (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))
            or not 0 <= seed <= MAX_SEED):
        raise ValueError(BAD_INT.format(name=name, constraint=f"in [0, {MAX_SEED}]", value=seed))
    return int(seed)


def check_positive_int(name: str, value: Any, *, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(BAD_INT.format(name=name, constraint=f">= {minimum}", value=value))
    return int(value)


def check_probability(name: str, value: Any, *, closed_right: bool = False) -> float:
    """Return ``value`` as a float after checking it lies in [0, 1) (or [0, 1])."""
    ok = isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
    upper_ok = ok and (value <= 1 if closed_right else value < 1)
    if not ok or value < 0 or not upper_ok:
        interval = "[0, 1]" if closed_right else "[0, 1)"
        raise ValueError(BAD_NUMBER.format(name=name, constraint=f"in {interval}", value=value))
    return float(value)


def is_fraction(value: Any, *, low_open: bool = True) -> bool:
    """Whether ``value`` is a real number in (0, 1) (``low_open=False``: in [0, 1))."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        return False
    return (0.0 < value if low_open else 0.0 <= value) and value < 1.0


def check_fraction(name: str, value: Any, *, low_open: bool = True) -> float:
    """Return ``value`` as a float after checking it lies in (0, 1) (or [0, 1))."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating, np.integer)):
        raise ValueError(f"{name} must be a number in (0, 1); got {value!r}.")
    if not is_fraction(value, low_open=low_open):
        interval = "(0, 1)" if low_open else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}; got {value!r}.")
    return float(value)


def check_seeds(name: str, seeds: Any) -> list[int]:
    """Return ``seeds`` as a list of distinct non-negative ints."""
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        seeds = [seeds]
    try:
        seeds = list(seeds)
    except TypeError:
        raise ValueError(f"{name} must be a list of non-negative integers; got {seeds!r}.") from None
    if not seeds:
        raise ValueError(f"{name} must not be empty.")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"{name} must be a list of non-negative integers; got {seed!r} in it.")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"{name} must not repeat a seed; got {seeds!r}.")
    return [int(s) for s in seeds]


@dataclass(frozen=True)
class Constraint:
    """What a value may be, for a method's option, a chapter's parameter or a profile's
    setting: ``accepts(value)`` says whether it is allowed, ``expected`` says it in words
    (for the error, which names the argument, the value and this), ``bad`` lists values it
    refuses (the contract tests try each), ``convert`` turns an accepted value into the one
    used."""

    expected: str
    accepts: Callable[[Any], bool]
    bad: tuple = ()
    convert: Callable[[Any], Any] = lambda value: value


def is_number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (numpy's included), and not a bool."""
    return (isinstance(value, (int, float, np.integer, np.floating))
            and not isinstance(value, bool) and math.isfinite(float(value)))


def integer(minimum: int = 1) -> Constraint:
    """An integer >= ``minimum``."""
    return Constraint(f"an integer >= {minimum}", lambda v: is_integer(v) and v >= minimum,
                      (minimum - 1, 2.5, True, "3"), int)


def number(low: float, high: float = math.inf, *, low_open: bool = True) -> Constraint:
    """A finite number in (low, high] (or [low, high] when ``low_open`` is false)."""
    bracket = "(" if low_open else "["
    expected = f"a number in {bracket}{low}, {high}]" if high < math.inf else (
        f"a number {'>' if low_open else '>='} {low}")

    def accepts(value: Any) -> bool:
        return is_number(value) and (value > low if low_open else value >= low) and value <= high

    return Constraint(expected, accepts, (low - 1, float("nan"), "0.1", True), float)


def one_of(*values: str) -> Constraint:
    """One of the strings ``values``."""
    return Constraint("one of " + ", ".join(map(repr, values)),
                      lambda v: isinstance(v, str) and v in values, ("unknown", 3))

def list_of(values: Sequence[str]) -> Constraint:
    """A non-empty list of distinct values drawn from ``values``."""
    values = list(values)
    return Constraint("a non-empty list of distinct values drawn from " + ", ".join(values),
                      lambda v: (isinstance(v, (list, tuple)) and len(v) > 0
                                 and len(set(v)) == len(v)
                                 and all(isinstance(x, str) and x in values for x in v)),
                      ([], "x", ["nope"]), list)


def distinct_list(item: Constraint, what: str) -> Constraint:
    """A non-empty list of distinct values, each accepted by ``item``; ``what`` names them
    in the plural."""
    return Constraint(f"a non-empty list of distinct {what}",
                      lambda v: (isinstance(v, (list, tuple)) and len(v) > 0
                                 and len(set(v)) == len(v) and all(item.accepts(x) for x in v)),
                      ([], 3), list)


def check_value(kind: str, name: str, value: Any, constraint: Constraint) -> Any:
    """``value`` converted by ``constraint``; a ValueError ``"<kind> <name>=<value> is not
    allowed; expected ..."`` (:data:`NOT_ALLOWED`) unless it accepts it."""
    if not constraint.accepts(value):
        raise ValueError(NOT_ALLOWED.format(kind=kind, name=name, value=value,
                                            expected=constraint.expected))
    return constraint.convert(value)
