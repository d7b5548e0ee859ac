"""Tables for reading: the one helper that formats every table of the book.

:func:`reader_table` turns a frame into a :class:`ReaderTable`: named columns, numbers rounded
to the precision that matters, "mean ± sd" on one line, ✓/✗ where a test passes or fails, no
index, a column that holds one value on every row said once above the table, rows grouped
under a heading instead of repeating a level, and long text moved to numbered notes under
the table. The full frame is written as CSV beside the chapter (:data:`TABLES`), so the book
links every table's data for download.

Examples
--------
>>> frame = pd.DataFrame({"method": ["ROC", "Random"], "mean": [0.1234, 0.2],
...                       "std": [0.01, 0.02], "ok": [True, False], "arch": "default"})
>>> print(reader_table(frame, mean_sd={"objective": ("mean", "std")}, checks=["ok"]))
every row: arch default
method  objective      ok
ROC     0.123 ± 0.010  ✓
Random  0.200 ± 0.020  ✗
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from IPython import get_ipython

from .study import save_csv

#: Where each table's full data is written as CSV (``$POSTHOC_TABLES`` elsewhere, as a
#: re-executed chapter does): ``book/downloads/tables`` of the checkout, which the build copies to ``tables/`` beside the chapters' pages (``html_extra_path``), so
#: that each table links its data for download.
TABLES = Path(__file__).resolve().parents[2] / "book" / "downloads" / "tables"
#: The address of :data:`TABLES` from a chapter's page.
TABLES_URL = "../tables"
#: Marks of a test that passes and fails.
PASS, FAIL = "✓", "✗"


@dataclass(frozen=True)
class Link:
    """A table cell that links to ``href`` (a page of the book)."""

    text: str
    href: str

    def __str__(self) -> str:
        return self.text


def _cell_html(value) -> str:
    if isinstance(value, Link):
        return f'<a href="{html.escape(value.href)}">{html.escape(value.text)}</a>'
    return html.escape(str(value))


@dataclass(frozen=True)
class ReaderTable:
    """A formatted table: ``shown`` holds the strings a reader sees (one row per line;
    ``group`` rows are headings), ``numeric`` the right-aligned columns, ``notes`` the
    numbered notes under the table and ``caption`` a line above it."""

    shown: pd.DataFrame
    numeric: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    caption: str = ""
    group: str | None = None
    csv: Path | None = None

    def _cells(self) -> list[str]:
        return [c for c in self.shown.columns if c != self.group]

    def _repr_html_(self) -> str:
        columns = self._cells()
        head = "".join(f'<th class="{_align(c, self.numeric)}">{html.escape(str(c))}</th>'
                       for c in columns)
        body = []
        for heading, part in _groups(self.shown, self.group):
            if heading is not None:
                body.append(f'<tr class="posthoc-group"><th colspan="{len(columns)}">'
                            f"{html.escape(heading)}</th></tr>")
            for _, row in part.iterrows():
                body.append("<tr>" + "".join(
                    f'<td class="{_align(c, self.numeric)}">{_cell_html(row[c])}</td>'
                    for c in columns) + "</tr>")
        caption = (f'<p class="posthoc-caption">{html.escape(self.caption)}</p>'
                   if self.caption else "")
        notes = ("<ol class=\"posthoc-notes\">" + "".join(
            f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ol>" if self.notes else "")
        if self.csv is not None:
            notes += (f'<p class="posthoc-download"><a href="{TABLES_URL}/{self.csv.name}" '
                      f'download>The full table (CSV)</a></p>')
        return (f'<div class="posthoc-table-box">{caption}<table class="posthoc-table">'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
                f"{notes}</div>")

    def __str__(self) -> str:
        lines = [self.caption] if self.caption else []
        columns = self._cells()
        widths = {c: max([len(str(c))] + [len(str(v)) for v in self.shown[c]]) for c in columns}
        lines.append("  ".join(str(c).ljust(widths[c]) for c in columns).rstrip())
        for heading, part in _groups(self.shown, self.group):
            if heading is not None:
                lines.append(f"[{heading}]")
            lines += ["  ".join(str(row[c]).ljust(widths[c]) for c in columns).rstrip()
                      for _, row in part.iterrows()]
        lines += [f"[{i}] {n}" for i, n in enumerate(self.notes, 1)]
        return "\n".join(lines)

    __repr__ = __str__


def _align(column, numeric) -> str:
    return "num" if column in numeric else "text"


def _groups(frame: pd.DataFrame, group: str | None):
    """``(heading, rows)`` for each run of equal values of ``group`` (one run without it)."""
    if group is None:
        yield None, frame
        return
    runs = (frame[group] != frame[group].shift()).cumsum()
    for _, part in frame.groupby(runs, sort=False):
        yield str(part[group].iloc[0]), part


def number_text(value, digits: int):
    """``value`` rounded to ``digits`` decimals; blank when missing; a :class:`Link` as it
    is."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, Link):
        return value
    if isinstance(value, (bool, np.bool_)):
        return PASS if value else FAIL
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if value != 0 and abs(value) < 0.5 * 10 ** -digits:
            return f"{value:.1e}"          # too small for the decimals: keep its size
        return f"{value:.{digits}f}"
    return str(value)


def reader_table(frame: pd.DataFrame | pd.Series, *, columns: dict | None = None, digits=3,
                 mean_sd: dict | None = None, checks=(), group: str | None = None,
                 notes: str | None = None, caption: str = "", csv: str | None = None,
                 keep_constant=(), numeric=()) -> ReaderTable:
    """``frame`` formatted for reading (see the module's docstring).

    ``columns`` maps the columns to show (in order) to their labels; ``digits`` is the
    decimals of every number, or a mapping from column to decimals (default 3);
    ``mean_sd`` maps a label to a ``(mean, sd)`` pair of columns shown as one; ``checks``
    are boolean columns shown as ✓/✗; ``group`` a column whose runs of equal values become
    headings; ``notes`` a column of long text moved to numbered notes (the row shows
    ``[n]``); ``csv`` the name of the CSV of the full frame written to :data:`TABLES`.
    A shown column with one value on every row is said once in the caption, unless listed in
    ``keep_constant``. Number columns are right-aligned, and so are the labels in
    ``numeric``.
    """
    data = _flat(frame)
    path = _save(data, csv)
    labels = dict(columns or {})
    shown, numeric_labels = _shown(data, list(columns) if columns is not None
                                   else list(data.columns), labels, dict(mean_sd or {}),
                                   checks, digits)
    table = pd.DataFrame(shown)
    group_label = labels.get(group, group) if group is not None else None
    note_texts = _move_notes(table, labels.get(notes, notes)) if notes is not None else []
    kept = set(keep_constant) | {group_label, "note"}
    constant = [c for c in table.columns
                if c not in kept and len(table) > 1 and table[c].nunique() == 1]
    said = "; ".join(f"{c} {table[c].iloc[0]}" for c in constant if table[c].iloc[0] != "")
    table = table.drop(columns=constant)
    caption = "; ".join(p for p in (caption, f"every row: {said}" if said else "") if p)
    right = numeric_labels + [labels.get(c, c) for c in numeric]
    return ReaderTable(table, tuple(c for c in right if c in table), tuple(note_texts),
                       caption, group_label, path)


def _shown(data: pd.DataFrame, order: list, labels: dict, pairs: dict, checks, digits
           ) -> tuple[dict, list]:
    """The shown columns of :func:`reader_table` as lists of strings, by label, and the
    labels of those holding numbers. A ``(mean, sd)`` pair takes the place of its mean
    column in ``order`` (the end, when its mean is not listed)."""
    def pair_cells(m, s):
        return [_mean_sd(a, b, _digits(digits, m)) for a, b in zip(data[m], data[s])]

    shown, numeric = {}, []
    for column in order:
        pair = next((label for label, (m, _) in pairs.items() if m == column), None)
        if pair is not None:
            shown[pair] = pair_cells(*pairs[pair])
            numeric.append(pair)
        elif not any(column == s for _, s in pairs.values()):
            label, values = labels.get(column, column), data[column]
            if column in checks:
                shown[label] = [PASS if bool(v) else FAIL for v in values]
                continue
            shown[label] = [number_text(v, _digits(digits, column)) for v in values]
            if (pd.api.types.is_numeric_dtype(values)
                    and not pd.api.types.is_bool_dtype(values)):
                numeric.append(label)
    for label, (m, s) in pairs.items():
        if label not in shown:
            shown[label] = pair_cells(m, s)
            numeric.append(label)
    return shown, numeric


def _move_notes(table: pd.DataFrame, column: str) -> list[str]:
    """Replace ``table``'s ``column`` of long text by a ``note`` column of ``[n]`` marks;
    return the texts, numbered in order."""
    texts, marks = [], []
    for text in table.pop(column):
        if text:
            texts.append(text)
            marks.append(f"[{len(texts)}]")
        else:
            marks.append("")
    table["note"] = marks
    return texts


def _flat(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its index as leading columns (dropped when it only numbers the rows;
    an unnamed level is named ``""``) and column levels joined by " · "."""
    if isinstance(frame, pd.Series):
        frame = frame.to_frame(frame.name if frame.name is not None else "value")
    frame = frame.copy()
    if isinstance(frame.columns, pd.MultiIndex):
        frame.columns = [" · ".join(str(v) for v in c if str(v)) for c in frame.columns]
    if isinstance(frame.index, pd.RangeIndex) and frame.index.name is None:
        return frame.reset_index(drop=True)
    names = [n if n is not None else " " * (i + 1) for i, n in enumerate(frame.index.names)]
    return frame.rename_axis(names).reset_index()


def read_frames() -> None:
    """Show every pandas frame and series this notebook displays through
    :func:`reader_table` (a chapter calls it once; outside IPython it does nothing)."""
    shell = get_ipython()
    if shell is None:
        return
    formatters = shell.display_formatter.formatters
    for kind in (pd.DataFrame, pd.Series):
        formatters["text/html"].for_type(kind, lambda f: reader_table(f)._repr_html_())
        formatters["text/plain"].for_type(
            kind, lambda f, printer, cycle: printer.text(str(reader_table(f))))


def _digits(digits, column) -> int:
    return digits.get(column, 3) if isinstance(digits, dict) else int(digits)


def _mean_sd(mean, sd, digits: int) -> str:
    if pd.isna(mean):
        return ""
    return f"{mean:.{digits}f}" + ("" if pd.isna(sd) else f" ± {sd:.{digits}f}")


def _save(data: pd.DataFrame, name: str | None) -> Path | None:
    """Write ``data`` as ``<name>.csv`` (atomically) in ``$POSTHOC_TABLES``, else
    :data:`TABLES`; None when no name."""
    if name is None:
        return None
    path = Path(os.environ.get("POSTHOC_TABLES") or TABLES) / f"{name}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_csv(data, path)
    return path





def transposed(table: pd.DataFrame, columns_from: str, *, row_label: str = "",
               heading=None) -> pd.DataFrame:
    """A wide table made narrow: for each combination of the index levels other than
    ``columns_from`` (a heading, ``heading(*levels)`` or the values joined by " · "), one
    row per column of ``table``, and one column per value of the level ``columns_from``.
    The result has a ``group`` column for :func:`reader_table`'s ``group``."""
    if columns_from not in table.index.names:
        raise ValueError(f"columns_from must be one of the index levels "
                         f"{list(table.index.names)}; got {columns_from!r}.")
    levels = [n for n in table.index.names if n != columns_from]
    rows = []
    for key, part in table.groupby(level=levels[0] if len(levels) == 1 else levels,
                                   sort=False):
        key = key if isinstance(key, tuple) else (key,)
        part = part.droplevel(levels)
        title = heading(*key) if heading is not None else " · ".join(map(str, key))
        for column in table.columns:
            rows.append({"group": title, row_label: column,
                         **{str(v): part.loc[v, column] for v in part.index}})
    return pd.DataFrame(rows)
__all__ = ["FAIL", "Link", "PASS", "ReaderTable", "TABLES", "TABLES_URL", "number_text", "read_frames", "reader_table",
           "transposed"]
