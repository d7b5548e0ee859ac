"""A verdict on one claim of the paper, and the statistics every criterion shares."""

from __future__ import annotations

import dataclasses
import textwrap
from dataclasses import asdict, dataclass
from importlib import resources

import numpy as np
import pandas as pd
import yaml
from scipy.stats import binom

#: The verdicts, strongest first.
LEVELS = ("supported", "partly supported", "not supported", "undecided")
#: Bootstrap resamples and confidence level of every interval.
N_BOOT, LEVEL = 2000, 0.95
#: The width a printed verdict is wrapped to (it fits the book's code boxes).
WIDTH = 76
#: The columns of ``claims.csv``.
CLAIM_COLUMNS = ["claim", "where", "verdict", "criterion", "evidence", "number", "exclusions",
                 "chapter", "effect", "value", "low", "high", "target"]


@dataclass(frozen=True)
class Verdict:
    """One claim of the paper against our results.

    ``number`` is the one number the verdict rests on, as a reader would quote it;
    ``exclusions`` says what the evidence left out (one-class results, failed networks, a
    baseline) and what the verdict is with it; ``chapter`` is the book's chapter that
    reports the claim. ``effect`` names the statistic the verdict chart shows, ``value`` it
    with its 95% interval (``low``, ``high``; NaN when it has none) and ``target`` the value
    at which the criterion's main part starts to hold.
    """

    claim: str
    where: str
    verdict: str
    criterion: str
    evidence: str
    number: str = ""
    exclusions: str = ""
    chapter: str = ""
    effect: str = ""
    value: float = float("nan")
    low: float = float("nan")
    high: float = float("nan")
    target: float = float("nan")

    def __post_init__(self) -> None:
        if self.verdict not in LEVELS:
            raise ValueError(f"verdict must be one of {LEVELS}; got {self.verdict!r}.")

    def row(self) -> dict:
        """The verdict as one row of ``claims.csv``."""
        return asdict(self)

    def __str__(self) -> str:
        parts = [f"{self.verdict.upper()}: “{self.claim}” ({self.where})",
                 f"  criterion: {self.criterion}", f"  evidence: {self.evidence}"]
        if self.exclusions:
            parts.append(f"  excluded: {self.exclusions}")
        return "\n".join(textwrap.fill(p, WIDTH, subsequent_indent="    ") for p in parts)


def verdict_table(verdicts) -> pd.DataFrame:
    """Verdicts as a table with the columns :data:`CLAIM_COLUMNS`."""
    return pd.DataFrame([v.row() for v in verdicts], columns=CLAIM_COLUMNS)


@dataclass(frozen=True)
class Claim:
    """One claim of the paper, as a record: its words (``text``), where the paper says it,
    the criterion, written before any number was seen, and the book's chapter that reports
    it. A claim's function computes the evidence and returns :meth:`judged`, or
    :meth:`undecided` (its guard) when the data cannot decide."""

    text: str
    where: str
    criterion: str
    chapter: str

    def undecided(self, why: str) -> Verdict:
        """The verdict when the data cannot decide, with the reason."""
        return Verdict(self.text, self.where, "undecided", self.criterion, why,
                       chapter=self.chapter)

    def judged(self, verdict: str, evidence: str, **details) -> Verdict:
        """The verdict ``verdict`` on ``evidence``, with the :class:`Verdict`'s other fields
        (``number``, ``exclusions``, the effect's)."""
        return Verdict(self.text, self.where, verdict, self.criterion, evidence,
                       chapter=self.chapter, **details)


#: The file of claim records, beside this module, and its size cap.
CLAIMS_FILE, MAX_CLAIMS_BYTES = "claims.yml", 2 ** 18


def read_claims(text: str) -> dict[str, Claim]:
    """The claim records of a ``claims.yml`` text (YAML read safely: plain data only), each
    with exactly the fields of :class:`Claim` and a non-empty string in each."""
    data = yaml.safe_load(text)
    fields = [f.name for f in dataclasses.fields(Claim)]
    if not isinstance(data, dict):
        raise ValueError(f"{CLAIMS_FILE} must map claim names to records; got "
                         f"{type(data).__name__}.")
    for name, record in data.items():
        if (not isinstance(record, dict) or sorted(record) != sorted(fields)
                or not all(isinstance(v, str) and v for v in record.values())):
            raise ValueError(f"claim {name!r} in {CLAIMS_FILE} must have exactly the fields "
                             f"{', '.join(fields)}, each a non-empty string; got {record!r}.")
    return {name: Claim(**record) for name, record in data.items()}


def _load_claims() -> dict[str, Claim]:
    with resources.files(__package__).joinpath(CLAIMS_FILE).open("rb") as handle:
        raw = handle.read(MAX_CLAIMS_BYTES + 1)
    if len(raw) > MAX_CLAIMS_BYTES:
        raise ValueError(f"{CLAIMS_FILE} is larger than {MAX_CLAIMS_BYTES} bytes.")
    return read_claims(raw.decode("utf-8"))


#: Every claim the book judges, by name (``claims.yml``).
CLAIMS: dict[str, Claim] = _load_claims()


def level(all_parts: bool, some_part: bool) -> str:
    """``supported`` when every part holds, ``partly supported`` when some does."""
    return "supported" if all_parts else "partly supported" if some_part else "not supported"


def bootstrap_interval(values, *, seed: int = 0, statistic=np.mean) -> tuple[float, float]:
    """Percentile bootstrap interval (:data:`LEVEL`, :data:`N_BOOT` resamples) of
    ``statistic`` over ``values`` (resampled with replacement, all resamples at once)."""
    values = np.asarray(values, dtype=float)
    if len(values) < 2:
        return float("nan"), float("nan")
    draws = np.random.default_rng(seed).integers(0, len(values), (N_BOOT, len(values)))
    stats = statistic(values[draws], axis=1)
    low, high = np.quantile(stats, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return float(low), float(high)


def mean_interval_text(values, **kwargs) -> str:
    """``"+0.012 [+0.004, +0.020]"``: the mean and its :func:`bootstrap_interval`."""
    low, high = bootstrap_interval(values, **kwargs)
    return f"{np.mean(values):+.3f} [{low:+.3f}, {high:+.3f}]"


def effect(name: str, value: float, target: float, low: float = float("nan"),
           high: float = float("nan")) -> dict:
    """The verdict chart's fields of a :class:`Verdict`, as keyword arguments."""
    return {"effect": name, "value": float(value), "low": float(low), "high": float(high),
            "target": float(target)}


def mean_effect(name: str, values, target: float, *, seed: int = 0, statistic=np.mean) -> dict:
    """:func:`effect` of ``statistic`` over ``values`` with its :func:`bootstrap_interval`."""
    low, high = bootstrap_interval(values, seed=seed, statistic=statistic)
    return effect(name, statistic(np.asarray(values, dtype=float)), target, low, high)


def significance(values, *, seed: int = 0) -> int:
    """+1 when the bootstrap interval of the mean lies above 0, -1 below, else 0."""
    low, high = bootstrap_interval(values, seed=seed)
    return 1 if low > 0 else -1 if high < 0 else 0


def binomial_tail(successes: int, trials: int, chance: float) -> float:
    """P(X ≥ ``successes``) for X ~ Binomial(``trials``, ``chance``): how often chance alone
    gives at least that count.

    Examples
    --------
    >>> round(binomial_tail(1, 10, 0.025), 3)      # "at least one of ten": one time in four
    0.224
    >>> binomial_tail(0, 10, 0.025)
    1.0
    """
    return float(binom.sf(successes - 1, trials, chance)) if successes > 0 else 1.0


__all__ = ["CLAIMS", "CLAIM_COLUMNS", "Claim", "LEVEL", "LEVELS", "N_BOOT", "Verdict",
           "binomial_tail", "bootstrap_interval", "effect", "level", "mean_effect",
           "mean_interval_text", "read_claims", "significance", "verdict_table"]
