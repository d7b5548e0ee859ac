"""The paper's four dataset configurations: raw files, checksums, AIF360 preprocessing, splits.

The raw files are read from a data folder (``data_dir``, else ``$POSTHOC_DATA``, else a
per-user cache folder), verified against SHA-256 sums kept here, downloaded when missing and
the network allows, and preprocessed exactly as AIF360's default dataset classes do, without
writing anything into the installed aif360 package.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from .atomic import atomic_bytes
from ._logging import without_root_records
from .paths import user_folder
from .validation import (BAD_NDIM, check_binary, check_choice, check_finite, check_groups,
                          check_same_length)

#: SHA-256 of every raw file, relative to the data folder.
CHECKSUMS: dict[str, str] = {
    "adult/adult.data": "5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
    "adult/adult.names": "c248284c0b5de30c9e1958d6cdd168a34a654758b620e68f46aefa83fc0a576a",
    "adult/adult.test": "a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
    "bank/bank-additional-full.csv": "74adfc578bf77a7ff4bb1ba4a9f8709d9e3c6907342959c2c8416847e0afb4d8",
    "bank/bank-additional-names.txt": "10045462a4c026f858dffa159370c4270510230c1fc63c6c91ca51bba4b3df26",
    "compas/compas-scores-two-years.csv": "c451db85908b2f7fef1d83203bedf6b71ecda0d5af468d82ae62178f91d0cc7d",
}

_UCI_ADULT = "https://archive.ics.uci.edu/ml/machine-learning-databases/adult/"
_BANK_ZIP = "https://archive.ics.uci.edu/static/public/222/bank+marketing.zip"
#: Where each raw file can be downloaded. A value ``(url, member, ...)`` names a zip archive
#: and the path of the file inside it (nested archives are followed in turn).
SOURCES: dict[str, tuple[str, ...]] = {
    "adult/adult.data": (_UCI_ADULT + "adult.data",),
    "adult/adult.names": (_UCI_ADULT + "adult.names",),
    "adult/adult.test": (_UCI_ADULT + "adult.test",),
    "bank/bank-additional-full.csv": (
        _BANK_ZIP, "bank-additional.zip", "bank-additional/bank-additional-full.csv"),
    "bank/bank-additional-names.txt": (
        _BANK_ZIP, "bank-additional.zip", "bank-additional/bank-additional-names.txt"),
    "compas/compas-scores-two-years.csv": (
        "https://raw.githubusercontent.com/propublica/compas-analysis/master/"
        "compas-scores-two-years.csv",),
}

#: Seed of the authors' split: train / rest 60 / 40, then rest into valid / test 50 / 50.
SPLIT_SEED = 101


@dataclass(frozen=True)
class Configuration:
    """One of the paper's dataset configurations (a dataset and its protected attribute)."""

    name: str
    dataset: str
    protected_attribute: str
    description: str
    privileged: str
    #: What AIF360's numeric labels 1 and 0 mean, and which one AIF360 calls favourable.
    label_one: str = ""
    label_zero: str = ""
    favourable_label: int = 1
    #: More than two groups: the intersection of these binary protected attributes
    #: (codes 0..2^k - 1, the first attribute the most significant bit), or every value of
    #: the raw file's column ``raw_column`` (codes in order of the values' names).
    intersection: tuple[str, ...] = ()
    raw_column: str = ""


_INCOME = ("income above $50K", "income at most $50K")
_DEPOSIT = ("subscribes a term deposit", "does not subscribe a term deposit")
_REOFFENDS = ("reoffends within two years", "does not reoffend within two years")
CONFIGURATIONS: dict[str, Configuration] = {
    "adult-sex": Configuration(
        "adult-sex", "adult", "sex", "Adult Census Income (ACI), protected attribute sex",
        "male (a = 1) is privileged", *_INCOME, 1),
    "bank-age": Configuration(
        "bank-age", "bank", "age", "Bank Marketing (BM), protected attribute age",
        "age >= 25 (a = 1) is privileged, as in the paper", *_DEPOSIT, 1),
    "compas-race": Configuration(
        "compas-race", "compas", "race", "COMPAS, protected attribute race",
        "Caucasian (a = 1) is privileged", *_REOFFENDS, 0),
    "compas-sex": Configuration(
        "compas-sex", "compas", "sex", "COMPAS, protected attribute sex",
        "female (a = 1) is privileged (AIF360's default)", *_REOFFENDS, 0),
    "adult-sex-race": Configuration(
        "adult-sex-race", "adult", "sex", "Adult Census Income, sex x race (four groups)",
        "four groups, sex x race (AIF360's binary attributes: male, white)", *_INCOME, 1,
        intersection=("sex", "race")),
    "compas-race-all": Configuration(
        "compas-race-all", "compas", "race", "COMPAS, every value of race (six groups)",
        "six groups, the raw file's values of race", *_REOFFENDS, 0, raw_column="race"),
}
#: The paper's four configurations (the others have more than two groups).
PAPER_CONFIGURATIONS = ("adult-sex", "bank-age", "compas-race", "compas-sex")

#: How a configuration's labels become ``y``: ``"aif360"`` keeps AIF360's numeric label (the
#: authors trained on it, so on COMPAS y = 1 means the person reoffends and the paper's
#: measures compare rates of predicted reoffending); ``"favourable"`` recodes so that y = 1
#: is the outcome AIF360 calls favourable (on COMPAS, not reoffending). Adult and Bank are
#: the same under both.
LABEL_CODINGS = ("aif360", "favourable")


def label_meaning(name: str, labels: str = "aif360") -> str:
    """What y = 1 means in configuration ``name`` under the label coding ``labels``."""
    config = CONFIGURATIONS[check_choice("name", name, CONFIGURATIONS)]
    check_choice("labels", labels, LABEL_CODINGS)
    recoded = labels == "favourable" and config.favourable_label == 0
    return config.label_zero if recoded else config.label_one


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


@dataclass(frozen=True, eq=False)
class Dataset:
    """A configuration split 60 / 20 / 20 into train, validation and test.

    Features are standardised with the mean and standard deviation of the training split.
    """

    name: str
    description: str
    protected_attribute: str
    privileged: str
    feature_names: list[str]
    train: Split
    valid: Split
    test: Split
    data_dir: Path = field(repr=False, default=Path("."))
    #: The label coding (see :func:`load_dataset`) and what y = 1 means under it.
    labels: str = "aif360"
    positive: str = ""
    #: The name of each group code 0, 1, ... of ``a``.
    group_names: tuple[str, ...] = ("unprivileged", "privileged")

    @property
    def n_features(self) -> int:
        return int(self.train.X.shape[1])

    def __repr__(self) -> str:
        return (f"Dataset({self.name!r}: {len(self.train)} train / {len(self.valid)} valid / "
                f"{len(self.test)} test rows, {self.n_features} features; {self.privileged}"
                + (f"; y = 1: {self.positive}" if self.positive else "") + ")")


# --------------------------------------------------------------------------- data folder


def default_data_dir() -> Path:
    """The data folder used when none is given: ``$POSTHOC_DATA``, else a per-user cache."""
    return user_folder("POSTHOC_DATA", "data")


def sha256(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(source: tuple[str, ...], *, timeout: float = 60.0) -> bytes:
    url, *members = source
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - fixed URLs
        payload = response.read()
    for member in members:
        with zipfile.ZipFile(io.BytesIO(payload)) as archive:
            payload = archive.read(member)
    return payload


def _fix_instructions(relative: str, folder: Path) -> str:
    source = SOURCES[relative]
    where = source[0] if len(source) == 1 else f"{source[0]} (inside: {' / '.join(source[1:])})"
    return (f"Download it from {where} and place it at {folder / relative}, or point "
            f"data_dir / $POSTHOC_DATA at a folder that holds the verified raw files.")


def ensure_files(relatives: list[str], data_dir: Path | str | None = None, *,
                 download: bool = True,
                 fetch: Callable[[tuple[str, ...]], bytes] | None = None) -> Path:
    """Make sure the raw files exist in the data folder with the right checksums.

    A missing file is downloaded (when ``download`` is true and the network allows) and
    verified before it is written, atomically. A file with a wrong checksum is never
    overwritten silently: it is an error.

    Returns
    -------
    Path
        The data folder.

    Raises
    ------
    FileNotFoundError
        If a file is missing and cannot be downloaded; the message names the file, the folder
        and how to fix it.
    ValueError
        If a file (present or downloaded) does not match its SHA-256 sum.
    """
    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    fetch = fetch or _download
    for relative in relatives:
        path = folder / relative
        expected = CHECKSUMS[relative]
        if path.is_file():
            actual = sha256(path)
            if actual != expected:
                raise ValueError(
                    f"Raw file {relative} in data folder {folder} is corrupted: SHA-256 is "
                    f"{actual}, expected {expected}. Delete it so that it is downloaded again, "
                    f"or replace it. {_fix_instructions(relative, folder)}")
            continue
        if not download:
            raise FileNotFoundError(
                f"Raw file {relative} is missing from data folder {folder}. "
                + _fix_instructions(relative, folder))
        try:
            payload = fetch(SOURCES[relative])
        except Exception as exc:
            raise FileNotFoundError(
                f"Raw file {relative} is missing from data folder {folder} and could not be "
                f"downloaded ({type(exc).__name__}: {exc}). "
                + _fix_instructions(relative, folder)) from exc
        actual = hashlib.sha256(payload).hexdigest()
        if actual != expected:
            raise ValueError(
                f"Downloaded raw file {relative} does not match its checksum (SHA-256 {actual}, "
                f"expected {expected}); nothing was written to {folder}. "
                + _fix_instructions(relative, folder))
        atomic_bytes(path, payload)
    return folder


# --------------------------------------------------------------------------- AIF360 datasets

_FILES = {
    "adult": ["adult/adult.data", "adult/adult.test", "adult/adult.names"],
    "bank": ["bank/bank-additional-full.csv", "bank/bank-additional-names.txt"],
    "compas": ["compas/compas-scores-two-years.csv"],
}


def _aif360_dataset(dataset: str, folder: Path):
    """Build AIF360's default dataset object for ``dataset`` from the files in ``folder``.

    The raw files are read with the same ``pandas.read_csv`` arguments as AIF360's dataset
    classes, and the preprocessing arguments are the defaults of the installed class, taken
    from its signature, so rows and features match ``AdultDataset()`` etc. exactly.
    """
    # Imported here: aif360.datasets takes 1.3 s to import, and a cached dataset never needs it.
    from aif360.datasets import AdultDataset, BankDataset, CompasDataset, StandardDataset

    cls = {"adult": AdultDataset, "bank": BankDataset, "compas": CompasDataset}[dataset]
    options = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
               if p.default is not inspect.Parameter.empty}
    na_values = options.pop("na_values")
    if dataset == "adult":
        columns = ["age", "workclass", "fnlwgt", "education", "education-num",
                   "marital-status", "occupation", "relationship", "race", "sex",
                   "capital-gain", "capital-loss", "hours-per-week", "native-country",
                   "income-per-year"]
        train = pd.read_csv(folder / "adult/adult.data", header=None, names=columns,
                            skipinitialspace=True, na_values=na_values)
        test = pd.read_csv(folder / "adult/adult.test", header=0, names=columns,
                           skipinitialspace=True, na_values=na_values)
        df = pd.concat([test, train], ignore_index=True)
    elif dataset == "bank":
        df = pd.read_csv(folder / "bank/bank-additional-full.csv", sep=";", na_values=na_values)
        # The paper (and AIF360 before 0.5) privileges age >= 25; newer AIF360 uses
        # 25 <= age < 60. We follow the paper.
        options["privileged_classes"] = [lambda x: x >= 25]
    else:
        df = pd.read_csv(folder / "compas/compas-scores-two-years.csv", index_col="id",
                         na_values=na_values)
    instance = cls.__new__(cls)
    # AIF360 logs "Missing Data: N rows removed" through the root logger; drop that record
    # only, and leave the root logger's handlers as they were.
    with without_root_records("Missing Data"):
        StandardDataset.__init__(instance, df=df, **options)
    return instance


def load_aif360(name: str, *, data_dir: Path | str | None = None, download: bool = True):
    """AIF360 dataset objects ``(train, valid, test)`` for configuration ``name``.

    The split is the authors': ``split([0.6], shuffle=True, seed=101)``, then the rest
    ``split([0.5], shuffle=True, seed=101)``.
    """
    config = CONFIGURATIONS[check_choice("name", name, CONFIGURATIONS)]
    folder = ensure_files(_FILES[config.dataset], data_dir, download=download)
    full = _aif360_dataset(config.dataset, folder)
    train, rest = full.split([0.6], shuffle=True, seed=SPLIT_SEED)
    valid, test = rest.split([0.5], shuffle=True, seed=SPLIT_SEED)
    return train, valid, test


def load_dataset(name: str, *, labels: str = "aif360", data_dir: Path | str | None = None,
                 download: bool = True) -> Dataset:
    """Load one of the paper's configurations, split and standardised.

    Parameters
    ----------
    name : {"adult-sex", "bank-age", "compas-race", "compas-sex"}
        The configuration.
    labels : {"aif360", "favourable"}, default "aif360"
        The label coding (:data:`LABEL_CODINGS`). ``"aif360"`` keeps AIF360's numeric label,
        as the authors did: on COMPAS, y = 1 means the person reoffends (AIF360's favourable
        label is 0). ``"favourable"`` makes y = 1 the favourable outcome. Adult and Bank are
        the same under both; :func:`label_meaning` says what y = 1 means.
    data_dir : path, optional
        Folder with the raw files (``adult/``, ``bank/``, ``compas/``). Defaults to
        ``$POSTHOC_DATA``, else ``~/.cache/posthoc/data``.
    download : bool, default True
        Download missing files (verified against their SHA-256 sums).

    Returns
    -------
    Dataset
        With ``train``, ``valid`` and ``test`` splits (60 / 20 / 20).

    Raises
    ------
    ValueError
        For an unknown ``name`` (the message lists the valid ones) or a corrupted file.
    FileNotFoundError
        For a missing file that cannot be downloaded.

    Examples
    --------
    >>> data = load_dataset("compas-race")        # doctest: +SKIP
    >>> data.train.X.shape                          # doctest: +SKIP
    (3700, 401)
    """
    config = CONFIGURATIONS[check_choice("name", name, CONFIGURATIONS)]
    check_choice("labels", labels, LABEL_CODINGS)
    train, valid, test = load_aif360(name, data_dir=data_dir, download=download)
    mean = train.features.mean(axis=0)
    std = train.features.std(axis=0)
    std[std == 0] = 1.0  # constant columns stay 0 after centring, as with StandardScaler

    folder = Path(data_dir).expanduser() if data_dir is not None else default_data_dir()
    groups, group_names = _group_coder(config, folder)

    def to_split(part) -> Split:
        X = (part.features - mean) / std
        positive = part.favorable_label if labels == "favourable" else 1.0
        y = (part.labels.ravel() == positive).astype(np.int64)
        return Split(X, y, groups(part))

    return Dataset(name=config.name, description=config.description,
                   protected_attribute=config.protected_attribute, privileged=config.privileged,
                   feature_names=list(train.feature_names), train=to_split(train),
                   valid=to_split(valid), test=to_split(test), data_dir=folder,
                   labels=labels, positive=label_meaning(name, labels),
                   group_names=group_names)


def _binary(part, attribute: str) -> np.ndarray:
    """1 where AIF360's binary protected ``attribute`` is privileged."""
    column = part.protected_attribute_names.index(attribute)
    return (part.protected_attributes[:, column]
            == part.privileged_protected_attributes[column][0]).astype(np.int64)


#: How the book names the two values of a binary protected attribute (0, 1).
_GROUP_LABELS = {("adult", "sex"): ("female", "male"), ("adult", "race"): ("non-white", "white")}


def _group_coder(config: Configuration, folder: Path):
    """A function giving each AIF360 split's group codes, and the groups' names."""
    if config.intersection:
        k = len(config.intersection)
        labels = [_GROUP_LABELS.get((config.dataset, attribute),
                                    (f"unprivileged {attribute}", f"privileged {attribute}"))
                  for attribute in config.intersection]
        names = tuple(", ".join(labels[i][(code >> (k - 1 - i)) & 1] for i in range(k))
                      for code in range(2 ** k))
        return (lambda part: sum(_binary(part, attribute) << (k - 1 - i)
                                 for i, attribute in enumerate(config.intersection)), names)
    if config.raw_column:
        raw = pd.read_csv(folder / _FILES[config.dataset][0], index_col="id",
                          usecols=["id", config.raw_column])[config.raw_column]
        raw.index = raw.index.astype(str)
        names = tuple(sorted(raw.unique()))
        codes = {value: code for code, value in enumerate(names)}
        return (lambda part: raw.loc[list(part.instance_names)].map(codes)
                .to_numpy(dtype=np.int64), names)
    return (lambda part: _binary(part, config.protected_attribute),
            ("unprivileged", "privileged"))


def available() -> list[str]:
    """Names of the four configurations."""
    return list(CONFIGURATIONS)


__all__ = ["CHECKSUMS", "CONFIGURATIONS", "Dataset", "LABEL_CODINGS", "PAPER_CONFIGURATIONS",
           "Split", "available",
           "default_data_dir", "ensure_files", "label_meaning", "load_aif360", "load_dataset"]


