"""The numbers the paper reports (Tables 1-3, Appendix A), to set beside ours."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from typing import Callable

import pandas as pd

from ..data import CONFIGURATIONS, DATASETS, short_label


class LiveMapping(Mapping):
    """A read-only mapping rebuilt from the registries at each use (``build()``), so that a
    configuration registered later is in it."""

    def __init__(self, build: Callable[[], dict]):
        self._build = build

    def __getitem__(self, key):
        return self._build()[key]

    def __iter__(self):
        return iter(self._build())

    def __len__(self) -> int:
        return len(self._build())


#: How the book names each configuration and dataset in its tables (the paper's names for
#: its own: "ACI (sex)", "BM"), from their records (a configuration registered later too).
PAPER_LABELS = LiveMapping(lambda: {name: short_label(name)
                                    for name in (*CONFIGURATIONS, *DATASETS)})


def paper_numbers(table: str | None = None) -> pd.DataFrame:
    """The paper's reported numbers, one row per number.

    Columns: ``table`` (table1, table2, table3, appendixA), ``config``, ``quantity``,
    ``model_or_method``, ``mean``, ``std`` (NaN where the paper gives none), ``unit``.

    Examples
    --------
    >>> paper_numbers("table3").query("config == 'adult' and quantity == 'accuracy'").shape[0]
    3
    """
    with resources.files("posthoc.repro").joinpath("paper_numbers.csv").open() as handle:
        frame = pd.read_csv(handle)
    if table is not None:
        valid = sorted(frame["table"].unique())
        if table not in valid:
            raise ValueError(f"Unknown table {table!r}; valid values are: {', '.join(valid)}.")
        frame = frame[frame["table"] == table].reset_index(drop=True)
    return frame


def paper_value(table: str, config: str, quantity: str,
                model_or_method: str) -> tuple[float, float]:
    """The paper's mean and standard deviation (NaN if none) of one reported number.

    Examples
    --------
    >>> paper_value("appendixA", "all", "r2_delta_to_spd", "network")
    (0.861, 0.09)
    """
    frame = paper_numbers(table)
    row = frame[(frame["config"] == config) & (frame["quantity"] == quantity)
                & (frame["model_or_method"] == model_or_method)]
    if row.empty:
        raise ValueError(f"The paper reports no {quantity!r} of {model_or_method!r} for "
                         f"{config!r} in {table!r}.")
    return float(row["mean"].iloc[0]), float(row["std"].iloc[0])


def format_mean_std(mean: float, std: float | None, digits: int = 3) -> str:
    """``"0.855 ± 0.002"``, or the mean alone when there is no standard deviation."""
    if std is None or pd.isna(std):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def format_range(low: float, high: float, spec: str = ".3f") -> str:
    """``"0.650 to 0.675"``, or one value when both print the same.

    >>> format_range(0.6504, 0.6749), format_range(0.2351, 0.2349, ".1%")
    ('0.650 to 0.675', '23.5%')
    """
    first, last = format(low, spec), format(high, spec)
    return first if first == last else f"{first} to {last}"


__all__ = ["LiveMapping", "PAPER_LABELS", "format_mean_std", "format_range", "paper_numbers", "paper_value"]
