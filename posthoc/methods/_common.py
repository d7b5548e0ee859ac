"""What every post-hoc method shares: the result object, its file, and model scoring."""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import _archive
from ..validation import error_summary, package_versions
from ..data import Split
from ..metrics import MEASURES, Measure
from ..metrics import objective as weighted_objective
from ..objectives import Objective
from ._spec import METHODS

#: Post-processor classes by ``kind`` (:class:`PostProcessorBase` registers each subclass that
#: names one), so that a saved result holds plain numbers, never a pickle.
POSTPROCESSOR_KINDS: dict[str, type] = {}
NOT_PER_ROW = "a must have one entry per row (length {rows}); got shape {shape}."
UNKNOWN_GROUP = "a holds group {group}, which {what} was not fitted on (groups {groups})."


class PostProcessorBase:
    """A fitted post-processor: 0/1 predictions from scores and the protected attribute.

    A subclass sets ``kind`` (the name a saved result finds it by; naming one registers the
    class in :data:`POSTPROCESSOR_KINDS`) and ``what`` (how errors call it), implements
    ``to_params()`` (plain numbers) with the classmethod ``from_params(params)``, and
    ``decide(scores, a)`` on inputs :meth:`checked` has converted and checked; ``groups``
    lists the groups it was fitted on (None: it takes any).
    """

    kind = ""
    what = "the post-processor"
    groups: list | None = None

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if cls.kind:
            POSTPROCESSOR_KINDS[cls.kind] = cls

    def checked(self, scores, a) -> tuple[np.ndarray, np.ndarray]:
        """``scores`` as float64 and ``a`` as an array, after checking that ``a`` has one
        entry per row and only groups the post-processor was fitted on."""
        scores, a = np.asarray(scores, dtype=np.float64), np.asarray(a)
        if a.shape != scores.shape:
            raise ValueError(NOT_PER_ROW.format(rows=scores.shape[0], shape=a.shape))
        if self.groups is not None:
            unknown = sorted(set(np.unique(a).tolist()) - set(self.groups))
            if unknown:
                raise ValueError(UNKNOWN_GROUP.format(group=unknown[0], what=self.what,
                                                      groups=sorted(self.groups)))
        return scores, a

    def predict(self, scores, a) -> np.ndarray:
        """0/1 predictions (int64) for ``scores`` and ``a``."""
        return self.decide(*self.checked(scores, a))

    def decide(self, scores: np.ndarray, a: np.ndarray) -> np.ndarray:
        raise NotImplementedError


NOT_PROBABILITIES = ("model must output probabilities in [0, 1]; got values from {low:.4g} to "
                     "{high:.4g}. If it outputs logits, end it with torch.nn.Sigmoid().")


def set_mode(model: nn.Module, training: bool) -> nn.Module:
    """``model.train(training)``; a ``torch.export`` program keeps the mode it was exported
    in (it cannot switch), so for it this does nothing."""
    try:
        model.train(training)
    except NotImplementedError:
        pass
    return model


def input_width(model: nn.Module) -> int | None:
    """The number of features the model takes: its first ``nn.Linear``'s, or for a
    ``torch.export`` program the last dimension of its input, when either is known."""
    first = next((m for m in model.modules() if isinstance(m, nn.Linear)), None)
    if first is not None:
        return first.in_features
    graph = getattr(model, "graph", None)
    for node in getattr(graph, "nodes", ()):
        value = node.meta.get("val") if node.op == "placeholder" else None
        if isinstance(value, torch.Tensor) and value.ndim == 2:
            width = value.shape[1]
            return width if isinstance(width, int) else None
    return None


def scores_of(model: nn.Module, X: np.ndarray | torch.Tensor) -> np.ndarray:
    """Probabilities of ``model`` (in eval mode, without gradients) as a float array [n].

    Raises
    ------
    ValueError
        If ``X`` is not 2-D or its width is not the model's, if the model fails on it, or if
        the output is not one probability in [0, 1] per row.
    """
    tensor = torch.as_tensor(X, dtype=torch.float32)
    width = input_width(model)
    if tensor.ndim != 2 or (width is not None and tensor.shape[1] != width):
        raise ValueError(f"X must have shape (n, {width if width is not None else 'd'}) for "
                         f"this model; got {tuple(tensor.shape)}.")
    was_training = model.training
    set_mode(model, False)
    try:
        with torch.no_grad():
            out = model(tensor)
    except (RuntimeError, AssertionError, ValueError, TypeError, IndexError) as exc:
        # An exported program's shape guards raise AssertionError; a module anything.
        raise ValueError(f"model could not score X of shape {tuple(tensor.shape)} "
                         f"({error_summary(exc)}); a torch.export program must take (n, d) "
                         "inputs whose first dimension is dynamic.") from None
    finally:
        set_mode(model, was_training)
    if not isinstance(out, torch.Tensor) or out.ndim == 0 or out.shape[0] != tensor.shape[0]:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(f"model must output one probability per row (shape [n] or [n, 1]); "
                         f"got {shape} for {tensor.shape[0]} rows.")
    out = out.reshape(out.shape[0], -1) if out.ndim > 1 else out[:, None]
    if out.shape[1] != 1:
        raise ValueError(f"model must output one probability per row (shape [n] or [n, 1]); "
                         f"got shape {tuple(out.shape)}.")
    scores = out[:, 0].double()
    if bool(torch.isnan(scores).any()):
        raise ValueError(f"model output contains NaN for {int(torch.isnan(scores).sum())} of "
                         f"{scores.numel()} rows.")
    if scores.numel() and (float(scores.min()) < 0 or float(scores.max()) > 1):
        raise ValueError(NOT_PROBABILITIES.format(low=float(scores.min()),
                                                  high=float(scores.max())))
    return scores.numpy()


def frozen_copy(model: nn.Module) -> nn.Module:
    """A deep copy of ``model`` in eval mode, so the caller's model is never modified."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}.")
    with warnings.catch_warnings():
        # Copying a torch.export module trips a deprecation inside torch's own pytree code.
        warnings.filterwarnings("ignore", message=".*LeafSpec.*", category=FutureWarning)
        return set_mode(copy.deepcopy(model), False)


@dataclass
class DebiasResult:
    """The outcome of :func:`posthoc.debias`.

    Attributes
    ----------
    method, measure, lam, seed
        What was run.
    options : dict
        Every option of the method, with the value it ran with.
    threshold : float
        Predictions are ``scores > threshold`` (fine-tuning methods and ``default``).
    objective : float
        Validation objective of the result, under :attr:`criterion`.
    criterion : posthoc.Objective
        The objective the method minimised (weighted with ``lam``, or constrained with its
        tolerance ε).
    runtime_s : float
        Wall time of the method, in seconds.
    model : nn.Module
        The fine-tuned copy (or the unchanged original, for post-processing methods).
    postprocessor : object or None
        The fitted post-processor of a post-processing method: ``predict(scores, a)``.
    details : dict
        Method-specific information (trial index, per-layer objectives, ...).
    """

    method: str
    measure: Measure
    lam: float
    threshold: float
    objective: float
    runtime_s: float
    model: nn.Module
    postprocessor: Any = None
    details: dict = field(default_factory=dict)
    seed: int = 0
    options: dict = field(default_factory=dict)
    n_features: int | None = None
    criterion: Any = None

    def __post_init__(self) -> None:
        if self.criterion is None:          # the paper's weighted objective with lam
            self.criterion = Objective("weighted", lam=self.lam, seed=self.seed)

    def objective_of(self, split: Split) -> float:
        """The result's objective (its :attr:`criterion`) on ``split``, with no
        resampling."""
        predictions = self.predict_split(split)
        if not self.criterion.constrained:
            return float(weighted_objective(predictions, split.y, split.a, self.measure,
                                            lam=self.criterion.lam))
        return self.criterion.value(predictions, split.y, split.a, self.measure)

    def scores(self, X: np.ndarray | torch.Tensor) -> np.ndarray:
        """The (fine-tuned) model's probabilities."""
        return scores_of(self.model, X)

    def predict(self, X: np.ndarray | torch.Tensor, a: np.ndarray | None = None) -> np.ndarray:
        """0/1 predictions; post-processors also need the protected attribute ``a``."""
        if self.postprocessor is not None:
            if a is None:
                raise ValueError(f"method {self.method!r} post-processes with the protected "
                                 "attribute: call predict(X, a).")
            return self.postprocessor.predict(self.scores(X), a)
        return (self.scores(X) > self.threshold).astype(np.int64)

    def predict_split(self, split: Split) -> np.ndarray:
        """0/1 predictions for a :class:`posthoc.Split`."""
        return self.predict(split.X, split.a)

    def save(self, path: str | Path) -> Path:
        """Write the result to one file: the model as a ``torch.export`` program, and its
        threshold, method, measure, lam, seed, options, post-processor parameters and the
        package versions as JSON. :func:`load_result` reads it back with identical
        predictions, and never unpickles anything.

        Raises
        ------
        ValueError
            For a result whose measure is a callable (register it with
            :func:`posthoc.register_measure` to give it a name) or whose model cannot be
            exported.
        """
        if callable(self.measure):
            raise ValueError("a result debiased with a callable measure cannot be saved; "
                             "register the measure with posthoc.register_measure and debias "
                             "with its name.")
        if self.n_features is None:
            raise ValueError("this result does not know its number of features; save results "
                             "made by posthoc.debias.")
        post = self.postprocessor
        info = {"method": self.method, "measure": self.measure, "lam": self.lam,
                "seed": self.seed, "threshold": self.threshold, "objective": self.objective,
                "criterion": self.criterion.to_dict(),
                "runtime_s": self.runtime_s, "n_features": self.n_features,
                "options": _plain(self.options), "details": _plain(self.details),
                "postprocessor": None if post is None else {"kind": post.kind,
                                                            "params": post.to_params()},
                "versions": package_versions(("posthoc", "torch", "numpy"))}
        try:
            program = _archive.export_program(self.model, self.n_features)
        except Exception as exc:  # noqa: BLE001 - torch.export raises many kinds
            raise ValueError(f"the model of this result cannot be exported with "
                             f"torch.export ({error_summary(exc)}).") from None
        return _archive.write(path, info, program)


#: The message for a field of a result file that is not what ``save`` writes.
BAD_FIELD = "{path}: field {field}={value!r} is not valid; expected {expected}."


def _field(info: dict, name: str, path, expected: str, accepts) -> Any:
    value = info.get(name)
    try:
        ok = accepts(value)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(BAD_FIELD.format(path=path, field=name, value=value,
                                          expected=expected))
    return value


def _number(low: float, high: float):
    return lambda v: (isinstance(v, (int, float)) and not isinstance(v, bool)
                      and np.isfinite(v) and low <= v <= high)


def _checked_fields(info: dict, path) -> dict[str, Any]:
    """The fields of a result file's description, each checked as ``save`` writes it."""
    return {
        "method": _field(info, "method", path, "a registered method",
                         lambda v: isinstance(v, str) and v in METHODS),
        "measure": _field(info, "measure", path, "a registered measure",
                          lambda v: isinstance(v, str) and v in MEASURES),
        "lam": float(_field(info, "lam", path, "a number in [0, 1]", _number(0, 1))),
        "threshold": float(_field(info, "threshold", path, "a finite number",
                                  _number(-np.inf, np.inf))),
        "seed": int(_field(info, "seed", path, "an integer in [0, 2**32 - 1]",
                           lambda v: isinstance(v, int) and not isinstance(v, bool)
                           and 0 <= v < 2**32)),
        "n_features": int(_field(info, "n_features", path, "a positive integer",
                                 lambda v: isinstance(v, int) and not isinstance(v, bool)
                                 and v > 0)),
    }


def load_result(path: str | Path) -> DebiasResult:
    """The :class:`DebiasResult` :meth:`DebiasResult.save` wrote to ``path``.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing, truncated, corrupted or not a posthoc result; a field
        that is not what ``save`` writes (an unknown method or measure, λ outside [0, 1],
        a threshold that is not finite, a negative seed, a feature count other than the
        program's), named with its value.
    """
    info, model = _archive.read(path)
    fields = _checked_fields(info, path)
    width = input_width(model)
    if width is not None and width != fields["n_features"]:
        raise ValueError(BAD_FIELD.format(path=path, field="n_features",
                                          value=fields["n_features"],
                                          expected=f"the program's input width, {width}"))
    try:
        post = info["postprocessor"]
        if post is not None:
            if post["kind"] not in POSTPROCESSOR_KINDS:
                raise ValueError(f"post-processor kind {post['kind']!r} is unknown here")
            post = POSTPROCESSOR_KINDS[post["kind"]].from_params(post["params"])
        return DebiasResult(method=fields["method"], measure=fields["measure"],
                            lam=fields["lam"], threshold=fields["threshold"],
                            objective=float(info["objective"]),
                            runtime_s=float(info["runtime_s"]), model=model,
                            postprocessor=post, details=info["details"],
                            seed=fields["seed"], options=info["options"],
                            n_features=fields["n_features"],
                            criterion=(Objective(**info["criterion"]) if "criterion" in info
                                       else None))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{path} is not a valid posthoc result file "
                         f"({type(exc).__name__}: {exc}).") from None


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: arrays as lists, callables by name."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic, torch.Tensor)):
        return np.asarray(value).tolist()
    if callable(value):
        return getattr(value, "__name__", repr(value))
    return value

