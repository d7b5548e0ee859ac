"""The contract every post-hoc method follows, and the registry that holds them.

A method is a :class:`MethodSpec`: its name, how the book labels and colours it, its family,
its options (each with a default and a check), and one ``fit`` function with one return type,
:class:`Fit`. :func:`posthoc.debias` validates through the spec and calls ``fit``; tables,
figures, chapters and the study grid read labels, families, colours and defaults from
:data:`METHODS`. Adding a method is one module that defines its spec plus one
:func:`register_method` call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from torch import nn

from .._registry import Registry
from ..validation import Constraint, integer, is_integer, is_number, number, one_of

#: The families of methods, in the book's order.
FAMILIES = ("reference", "fine-tuning", "post-processing")
BAD_OPTION = "Option {option}={value!r} of method {method!r} is not allowed; expected {expected}."
UNKNOWN_OPTION = "Unknown option {option!r} for method {method!r}; valid options are: {valid}."


#: The constraint vocabulary's former name (:class:`posthoc.validation.Constraint`), kept
#: for one release.
Kind = Constraint


GRID = Constraint("an integer >= 2 (the number of thresholds in [0, 1]) or None (every cut point)",
            lambda v: v is None or (is_integer(v) and v >= 2), (1, 2.5, "501", True),
            lambda v: None if v is None else int(v))
NAMES = Constraint("a non-empty list of layer names, or None for every layer",
             lambda v: v is None or (isinstance(v, (list, tuple)) and len(v) > 0
                                     and all(isinstance(s, str) for s in v)),
             ([], "head", [1]), lambda v: None if v is None else list(v))
FACTORY = Constraint("a callable (dims, seed) -> optimiser, or None",
               lambda v: v is None or callable(v), (3, "gbrt"))
THRESHOLD = Constraint("a number in [0, 1], or None (search the threshold)",
                 lambda v: v is None or (is_number(v) and 0 <= v <= 1), (-0.1, 1.5, "0.5", True),
                 lambda v: None if v is None else float(v))
FLAG = Constraint("True or False", lambda v: isinstance(v, bool), (0, 1, "yes", None))


@dataclass(frozen=True)
class Option:
    """One setting of a method: its name, default, kind and a line of documentation.
    ``budget`` marks the option that sets how much work the method does (its trials,
    evaluations or epochs): the book's profiles scale it, and the chapters that run the
    method take it as a parameter of the same name."""

    name: str
    default: Any
    kind: Constraint
    doc: str = ""
    budget: bool = False


@dataclass
class Fit:
    """What a method's ``fit`` returns.

    Attributes
    ----------
    model : nn.Module
        The fitted copy (fine-tuning methods) or the unchanged copy (the others).
    threshold : float
        Predictions are ``scores > threshold``; for a post-processor, the threshold its
        input predictions use.
    postprocessor : object or None
        For post-processing methods: an object with ``predict(scores, a) -> 0/1 array``.
    details : dict
        Method-specific information (trial index, per-layer objectives, ...).
    """

    model: nn.Module
    threshold: float
    postprocessor: Any = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class MethodSpec:
    """A post-hoc method.

    ``fit(model, split, *, measure, lam, seed, **options) -> Fit`` receives a private copy of
    the model (in eval mode) that it may change, the validation split, a checked measure
    (a registered name, or a callable unless ``builtin_measures_only``), ``lam``, ``seed``,
    and every option of ``options`` with its checked value. A method that minimises an
    objective declares ``uses_objective`` and then also receives ``objective``, a
    :class:`posthoc.Objective` (the weighted one with ``lam``, or the constrained one);
    ``margin`` is its default bootstrap margin under the constrained objective. A method
    that works only with some registered measures names them in ``measures`` (None: every
    registered measure); :func:`posthoc.debias` refuses any other, and the study's grids
    leave the pair out.
    """

    name: str
    label: str
    family: str
    fit: Callable[..., Fit]
    options: Sequence[Option] = ()
    colour: str = "#7f7f7f"
    builtin_measures_only: bool = False
    description: str = ""
    uses_objective: bool = False
    margin: float = 0.01
    measures: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"family={self.family!r} is not allowed; expected one of "
                             f"{', '.join(FAMILIES)}.")

    def supports(self, measure: Any) -> bool:
        """Whether the method runs with ``measure`` (a registered name or a callable)."""
        if callable(measure):
            return not self.builtin_measures_only
        return self.measures is None or measure in self.measures

    @property
    def defaults(self) -> dict[str, Any]:
        """Every option's default."""
        return {option.name: option.default for option in self.options}

    @property
    def budget(self) -> str | None:
        """The name of the option marked as the method's budget, or None."""
        return next((option.name for option in self.options if option.budget), None)

    @property
    def grid(self) -> int | None:
        """The default threshold grid (the authors' size), or None where there is none."""
        return self.defaults.get("grid")

    def resolve(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Every option, checked, with the defaults filled in; a ValueError names an unknown
        option or a bad value."""
        known = {option.name: option for option in self.options}
        for name in options:
            if name not in known:
                raise ValueError(UNKNOWN_OPTION.format(option=name, method=self.name,
                                                       valid=", ".join(known) or "none"))
        resolved = {}
        for name, option in known.items():
            value = options.get(name, option.default)
            if not option.kind.accepts(value):
                raise ValueError(BAD_OPTION.format(option=name, value=value, method=self.name,
                                                   expected=option.kind.expected))
            resolved[name] = option.kind.convert(value)
        return resolved


class NotApplicable(ValueError):
    """A method cannot run on this data (for example, a group with one label only)."""


#: Every method :func:`posthoc.debias` runs, by name, in the book's order.
METHODS: Registry[MethodSpec] = Registry("method")


def register_method(spec: MethodSpec, *, replace: bool = False) -> MethodSpec:
    """Add ``spec`` to :data:`METHODS`, after which :func:`posthoc.debias`, the study, the
    tables and the figures know it."""
    if not isinstance(spec, MethodSpec):
        raise TypeError(f"spec must be a posthoc.MethodSpec; got {type(spec).__name__}.")
    return METHODS.register(spec, replace=replace)


def methods_of(family: str) -> list[str]:
    """The registered methods of ``family``, in registration order."""
    if family not in FAMILIES:
        raise ValueError(f"family={family!r} is not allowed; expected one of "
                         f"{', '.join(FAMILIES)}.")
    return [name for name, spec in METHODS.items() if spec.family == family]


__all__ = ["FACTORY", "FAMILIES", "Fit", "GRID", "Kind", "METHODS", "MethodSpec", "NAMES",
           "Option", "integer", "methods_of", "number", "one_of", "register_method"]
