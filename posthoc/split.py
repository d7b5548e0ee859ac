"""``Split``: one part of a dataset (features, labels, protected attribute), checked on the
way in, from arrays or from a pandas DataFrame; and the group codes of several protected
columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from .validation import (BAD_NDIM, check_binary, check_finite, check_groups,
                         check_same_length)


@dataclass(frozen=True, eq=False)
class Split:
    """One part of a dataset: features ``X``, labels ``y`` and protected attribute ``a``.

    Parameters
    ----------
    X : array of shape (n, d)
        Features, converted to float32; must be finite.
    y : array of shape (n,)
        Labels, 0 or 1. The measures compare the rates of predicting 1 (see
        :func:`load_dataset` for what 1 means in the paper's configurations).
    a : array of shape (n,)
        Protected attribute: 0 or 1 (1 is the privileged group), or group codes 0, 1, ...,
        g - 1 for more than two groups (an attribute with more values, or an intersection).

    Raises
    ------
    ValueError
        If the lengths differ, ``X`` is not 2-D, empty or not finite, or ``y`` or ``a`` is
        not 0/1.

    Examples
    --------
    >>> import numpy as np
    >>> s = Split(np.zeros((3, 2)), [0, 1, 1], [1, 1, 0])
    >>> s.X.dtype, len(s)
    (dtype('float32'), 3)
    """

    X: np.ndarray
    y: np.ndarray
    a: np.ndarray

    def __post_init__(self) -> None:
        X = _to_numpy("X", self.X, np.float32)
        y = _to_numpy("y", self.y, np.int64)
        a = _to_numpy("a", self.a, np.int64)
        if X.ndim != 2:
            raise ValueError(BAD_NDIM.format(name="X", expected="2-D array (n, d)", shape=X.shape))
        for name, arr in (("y", y), ("a", a)):
            if arr.ndim != 1:
                raise ValueError(BAD_NDIM.format(name=name, expected="1-D array (n,)", shape=arr.shape))
        check_same_length(X=X.T, y=y, a=a)
        if X.shape[0] == 0:
            raise ValueError("X must hold at least one row; got an empty array of shape "
                             f"{X.shape}.")
        check_finite("X", X)
        check_binary("y", y)
        check_groups("a", a)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "a", a)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, label: str, protected: str | Sequence[str],
                   privileged: Any = None, features: Sequence[str] | None = None,
                   multigroup: bool = False) -> "Split":
        """A split from a pandas DataFrame.

        Parameters
        ----------
        frame : pandas.DataFrame
            One row per person.
        label : str
            The 0/1 (or boolean) label column; 1 is the favourable outcome.
        protected : str or list of str
            The protected attribute's column, of any dtype; with ``multigroup``, a list of
            columns makes their intersection (e.g. ``["sex", "race"]``).
        privileged : value or list of values, optional
            The value(s) of ``protected`` that make the privileged group (a = 1); every other
            value is unprivileged (a = 0). Optional when the column already holds only 0 and 1.
        multigroup : bool, default False
            Every distinct value (or combination of values) of ``protected`` is a group of its
            own, coded 0, 1, ... in the order of :func:`group_codes`; the measures then give
            the largest gap between any two groups.
        features : list of str, optional
            The model's input columns, in its order; default: every column except
            ``label``, in the frame's order. Each must be numeric (or boolean) and finite.

        Raises
        ------
        ValueError
            Naming the column and the value: a missing or non-numeric feature column, a label
            that is not 0/1, a privileged value the protected column does not hold.

        Examples
        --------
        >>> frame = pd.DataFrame({"age": [25, 40, 33], "sex": ["f", "m", "m"],
        ...                       "hired": [0, 1, 1]})
        >>> s = Split.from_frame(frame, label="hired", protected="sex", privileged="m",
        ...                      features=["age"])
        >>> s.a.tolist(), s.X.shape
        ([0, 1, 1], (3, 1))
        """
        if not isinstance(frame, pd.DataFrame):
            raise ValueError(f"frame must be a pandas DataFrame; got {type(frame).__name__}.")
        protected_columns = [protected] if isinstance(protected, str) else list(protected)
        if len(protected_columns) > 1 and not multigroup:
            raise ValueError(f"protected={protected!r} names several columns; pass "
                             "multigroup=True to use their intersection as groups.")
        for role, column in (("label", label), *(("protected", c) for c in protected_columns)):
            if column not in frame.columns:
                raise ValueError(f"{role} column {column!r} is not in the frame; its columns "
                                 f"are: {', '.join(map(str, frame.columns))}.")
        if features is None:
            features = [c for c in frame.columns if c != label]
        features = list(features)
        if not features:
            raise ValueError("features must name at least one column.")
        for column in features:
            if column not in frame.columns:
                raise ValueError(f"feature column {column!r} is not in the frame; its columns "
                                 f"are: {', '.join(map(str, frame.columns))}.")
            values = frame[column]
            if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)):
                example = values.dropna().iloc[0] if values.notna().any() else None
                raise ValueError(f"feature column {column!r} must be numeric; it holds "
                                 f"{values.dtype} values such as {example!r}. Encode it "
                                 "first (for example with pandas.get_dummies).")
            if values.isna().any():
                raise ValueError(f"feature column {column!r} has {int(values.isna().sum())} "
                                 "missing values.")
            numbers = values.to_numpy(dtype=np.float64)
            beyond = ~np.isfinite(numbers) | (np.abs(numbers) > np.finfo(np.float32).max)
            if beyond.any():
                raise ValueError(f"feature column {column!r} holds {int(beyond.sum())} value(s) "
                                 f"that are infinite or beyond float32's range, such as "
                                 f"{numbers[beyond][0]!r}.")
        y = frame[label]
        bad_labels = sorted(set(y.dropna().unique().tolist()) - {0, 1, True, False},
                            key=str)
        if y.isna().any() or bad_labels:
            shown = bad_labels[:5] if bad_labels else ["missing values"]
            raise ValueError(f"label column {label!r} must hold only 0 and 1; got {shown}.")
        if multigroup:
            if privileged is not None:
                raise ValueError("privileged= and multigroup=True exclude each other: with "
                                 "more than two groups none is privileged.")
            a = group_codes(frame, protected_columns)[0]
        else:
            a = _privileged_indicator(frame[protected_columns[0]], protected_columns[0],
                                      privileged)
        return cls(frame[features].to_numpy(dtype=np.float32), y.to_numpy(dtype=np.int64), a)

    def __repr__(self) -> str:
        return f"Split(n={len(self)}, d={self.X.shape[1]}, positive rate={self.y.mean():.3f})"


def group_codes(frame: pd.DataFrame, columns: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Group codes 0, 1, ... for each distinct combination of ``columns`` (in sorted order of
    the combinations), and the groups' names (``"Female & Black"``).

    Examples
    --------
    >>> frame = pd.DataFrame({"sex": ["f", "m", "f", "m"], "race": ["a", "a", "b", "a"]})
    >>> codes, names = group_codes(frame, ["sex", "race"])
    >>> codes.tolist(), names
    ([0, 2, 1, 2], ['f & a', 'f & b', 'm & a'])
    """
    columns = list(columns)
    for column in columns:
        if column not in frame.columns:
            raise ValueError(f"protected column {column!r} is not in the frame.")
        if frame[column].isna().any():
            raise ValueError(f"protected column {column!r} has {int(frame[column].isna().sum())} "
                             "missing values.")
    keys = [tuple(str(v) for v in row) for row in frame[columns].itertuples(index=False)]
    names = sorted(set(keys))
    index = {key: code for code, key in enumerate(names)}
    return (np.array([index[key] for key in keys], dtype=np.int64),
            [" & ".join(key) for key in names])


def _privileged_indicator(column: pd.Series, name: str, privileged: Any) -> np.ndarray:
    """1 where ``column`` holds one of the ``privileged`` values, else 0."""
    held = column.dropna().unique().tolist()
    if column.isna().any():
        raise ValueError(f"protected column {name!r} has {int(column.isna().sum())} missing "
                         "values.")
    if privileged is None:
        if set(held) <= {0, 1}:
            return column.to_numpy(dtype=np.int64)
        raise ValueError(f"protected column {name!r} holds {sorted(map(str, held))[:5]}; pass "
                         "privileged= with the value(s) of the privileged group.")
    wanted = list(privileged) if isinstance(privileged, (list, tuple, set)) else [privileged]
    missing = [value for value in wanted if value not in held]
    if missing:
        raise ValueError(f"privileged value {missing[0]!r} does not occur in protected column "
                         f"{name!r}; it holds: {', '.join(map(repr, sorted(held, key=str)[:10]))}.")
    return column.isin(wanted).to_numpy(dtype=np.int64)


def _to_numpy(name: str, value, dtype) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    array = np.asarray(value)
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        raise ValueError(f"{name} must be numeric; got dtype {array.dtype}.")
    if dtype is np.int64 and np.issubdtype(array.dtype, np.floating):
        check_finite(name, array)
        # Floats equal to integers are codes like any others: labels 0/1, groups 0..g-1.
        (check_groups if name == "a" else check_binary)(name, array)
    return np.ascontiguousarray(array, dtype=dtype)


__all__ = ["Split", "group_codes"]
