"""The datasets and their configurations, one record each: a :class:`DatasetSource` says how
AIF360 reads a dataset's raw files, a :class:`Configuration` which protected attribute and
label coding make one of the study's settings; and :func:`load_dataset`, which splits a
configuration as the authors did and standardises it.

The raw files (:mod:`posthoc.rawfiles`) are preprocessed exactly as AIF360's default dataset
classes do, without writing anything into the installed aif360 package.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from ._logging import without_root_records
from .rawfiles import RawFile, default_data_dir, ensure_files, register_raw_file
from .split import Split
from .validation import check_choice

#: Seed of the authors' split: train / rest 60 / 40, then rest into valid / test 50 / 50.
SPLIT_SEED = 101


@dataclass(frozen=True)
class DatasetSource:
    """A dataset as AIF360 reads it: ``files`` in the data folder (paths of
    :data:`posthoc.rawfiles.RAW_FILES`, or :class:`posthoc.rawfiles.RawFile` records of a
    new dataset's files), the AIF360 class whose default preprocessing applies
    (``aif360_class``), ``read(folder, na_values)``, the raw table that class reads, and
    ``adjust(options)``, any change to the class's default options. ``label`` is the
    paper's short name."""

    name: str
    label: str
    files: tuple[str | RawFile, ...]
    aif360_class: str
    read: Callable[[Path, Any], pd.DataFrame]
    adjust: Callable[[dict], dict] = lambda options: options

    @property
    def paths(self) -> list[str]:
        """The files' paths in the data folder."""
        return [f.path if isinstance(f, RawFile) else f for f in self.files]


_ADULT_COLUMNS = ["age", "workclass", "fnlwgt", "education", "education-num",
                  "marital-status", "occupation", "relationship", "race", "sex",
                  "capital-gain", "capital-loss", "hours-per-week", "native-country",
                  "income-per-year"]
_GERMAN_COLUMNS = ["status", "month", "credit_history", "purpose", "credit_amount",
                   "savings", "employment", "investment_as_income_percentage",
                   "personal_status", "other_debtors", "residence_since", "property", "age",
                   "installment_plans", "housing", "number_of_credits", "skill_level",
                   "people_liable_for", "telephone", "foreign_worker", "credit"]


def _read_adult(folder: Path, na_values) -> pd.DataFrame:
    train = pd.read_csv(folder / "adult/adult.data", header=None, names=_ADULT_COLUMNS,
                        skipinitialspace=True, na_values=na_values)
    test = pd.read_csv(folder / "adult/adult.test", header=0, names=_ADULT_COLUMNS,
                       skipinitialspace=True, na_values=na_values)
    return pd.concat([test, train], ignore_index=True)


def _bank_options(options: dict) -> dict:
    # The paper (and AIF360 before 0.5) privileges age >= 25; newer AIF360 uses
    # 25 <= age < 60. We follow the paper.
    return {**options, "privileged_classes": [lambda x: x >= 25]}


#: Every dataset, by name; the raw files are read with the same ``pandas.read_csv``
#: arguments as AIF360's dataset classes.
DATASETS: dict[str, DatasetSource] = {s.name: s for s in (
    DatasetSource("adult", "ACI",
                  ("adult/adult.data", "adult/adult.test", "adult/adult.names"),
                  "AdultDataset", _read_adult),
    DatasetSource("bank", "BM",
                  ("bank/bank-additional-full.csv", "bank/bank-additional-names.txt"),
                  "BankDataset", lambda folder, na: pd.read_csv(
                      folder / "bank/bank-additional-full.csv", sep=";", na_values=na),
                  _bank_options),
    DatasetSource("compas", "COMPAS", ("compas/compas-scores-two-years.csv",),
                  "CompasDataset", lambda folder, na: pd.read_csv(
                      folder / "compas/compas-scores-two-years.csv", index_col="id",
                      na_values=na)),
    DatasetSource("german", "German", ("german/german.data",), "GermanDataset",
                  lambda folder, na: pd.read_csv(folder / "german/german.data", sep=" ",
                                                 header=None, names=_GERMAN_COLUMNS,
                                                 na_values=na)),
)}


@dataclass(frozen=True)
class Configuration:
    """One of the study's dataset configurations (a dataset and its protected attribute):
    all a new configuration needs. ``label`` is its short name in tables and figures, and
    ``marker`` its matplotlib marker."""

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
    label: str = ""
    marker: str = "o"
    #: How the book names the two values (0, 1) of each binary protected attribute.
    group_labels: tuple[tuple[str, str, str], ...] = ()
    #: A new dataset's source (its files with their checksums, and its reader), registered
    #: with the configuration by :func:`register_configuration`; None for a known dataset.
    source: DatasetSource | None = field(default=None, compare=False)


_INCOME = ("income above $50K", "income at most $50K")
_DEPOSIT = ("subscribes a term deposit", "does not subscribe a term deposit")
_REOFFENDS = ("reoffends within two years", "does not reoffend within two years")
_CREDIT = ("good credit", "bad credit")
_ADULT_GROUPS = (("sex", "female", "male"), ("race", "non-white", "white"))
#: Every configuration, in the order of the figures' legends.
CONFIGURATIONS: dict[str, Configuration] = {c.name: c for c in (
    Configuration("adult-sex", "adult", "sex", "Adult Census Income (ACI), protected attribute "
                  "sex", "male (a = 1) is privileged", *_INCOME, 1, label="ACI (sex)",
                  marker="o", group_labels=_ADULT_GROUPS),
    Configuration("bank-age", "bank", "age", "Bank Marketing (BM), protected attribute age",
                  "age >= 25 (a = 1) is privileged, as in the paper", *_DEPOSIT, 1,
                  label="BM (age)", marker="s"),
    Configuration("compas-race", "compas", "race", "COMPAS, protected attribute race",
                  "Caucasian (a = 1) is privileged", *_REOFFENDS, 0, label="COMPAS (race)",
                  marker="^"),
    Configuration("compas-sex", "compas", "sex", "COMPAS, protected attribute sex",
                  "female (a = 1) is privileged (AIF360's default)", *_REOFFENDS, 0,
                  label="COMPAS (sex)", marker="v"),
    Configuration("adult-sex-race", "adult", "sex", "Adult Census Income, sex x race (four "
                  "groups)", "four groups, sex x race (AIF360's binary attributes: male, "
                  "white)", *_INCOME, 1, intersection=("sex", "race"),
                  label="ACI (sex x race)", marker="D", group_labels=_ADULT_GROUPS),
    Configuration("compas-race-all", "compas", "race", "COMPAS, every value of race (six "
                  "groups)", "six groups, the raw file's values of race", *_REOFFENDS, 0,
                  raw_column="race", label="COMPAS (every race)", marker="P"),
    Configuration("german-sex", "german", "sex", "German credit, protected attribute sex",
                  "male (a = 1) is privileged (AIF360's default)", *_CREDIT, 1,
                  label="German (sex)", marker="<"),
    Configuration("german-age", "german", "age", "German credit, protected attribute age",
                  "age > 25 (a = 1) is privileged (AIF360's default)", *_CREDIT, 1,
                  label="German (age)", marker=">"),
)}
#: The paper's four configurations (the others have more than two groups, or come from its
#: final version).
PAPER_CONFIGURATIONS = ("adult-sex", "bank-age", "compas-race", "compas-sex")

#: How a configuration's labels become ``y``: ``"aif360"`` keeps AIF360's numeric label (the
#: authors trained on it, so on COMPAS y = 1 means the person reoffends and the paper's
#: measures compare rates of predicted reoffending); ``"favourable"`` recodes so that y = 1
#: is the outcome AIF360 calls favourable (on COMPAS, not reoffending). Adult, Bank and
#: German credit are the same under both.
LABEL_CODINGS = ("aif360", "favourable")


def label_meaning(name: str, labels: str = "aif360") -> str:
    """What y = 1 means in configuration ``name`` under the label coding ``labels``."""
    config = CONFIGURATIONS[check_choice("name", name, CONFIGURATIONS)]
    check_choice("labels", labels, LABEL_CODINGS)
    recoded = labels == "favourable" and config.favourable_label == 0
    return config.label_zero if recoded else config.label_one


def short_label(name: str) -> str:
    """The short name of a configuration or a dataset in tables and figures (``"ACI
    (sex)"``, ``"BM"``); any other name as it is."""
    if name in CONFIGURATIONS:
        return CONFIGURATIONS[name].label or name
    return DATASETS[name].label if name in DATASETS else str(name)


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


def aif360_dataset(dataset: str, folder: Path):
    """AIF360's default dataset object for ``dataset`` from the raw files in ``folder``,
    with the preprocessing arguments of the installed class's defaults (taken from its
    signature, adjusted as the dataset's :class:`DatasetSource` says), so that rows and
    features match ``AdultDataset()`` etc. exactly."""
    # Imported here: aif360.datasets takes 1.3 s to import, and a cached dataset never needs it.
    import aif360.datasets
    from aif360.datasets import StandardDataset

    source = DATASETS[dataset]
    cls = getattr(aif360.datasets, source.aif360_class)
    options = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()
               if p.default is not inspect.Parameter.empty}
    na_values = options.pop("na_values")
    options = source.adjust(options)
    df = source.read(folder, na_values)
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
    folder = ensure_files(DATASETS[config.dataset].paths, data_dir, download=download)
    full = aif360_dataset(config.dataset, folder)
    train, rest = full.split([0.6], shuffle=True, seed=SPLIT_SEED)
    valid, test = rest.split([0.5], shuffle=True, seed=SPLIT_SEED)
    return train, valid, test


def load_dataset(name: str, *, labels: str = "aif360", data_dir: Path | str | None = None,
                 download: bool = True) -> Dataset:
    """Load a configuration, split and standardised.

    Parameters
    ----------
    name : a key of :data:`CONFIGURATIONS`
        The configuration: the paper's four (``"adult-sex"``, ``"bank-age"``,
        ``"compas-race"``, ``"compas-sex"``), those with more than two groups
        (``"adult-sex-race"``, ``"compas-race-all"``), or German credit's of the paper's
        final version (``"german-sex"``, ``"german-age"``).
    labels : {"aif360", "favourable"}, default "aif360"
        The label coding (:data:`LABEL_CODINGS`). ``"aif360"`` keeps AIF360's numeric label,
        as the authors did: on COMPAS, y = 1 means the person reoffends (AIF360's favourable
        label is 0). ``"favourable"`` makes y = 1 the favourable outcome. Adult, Bank and
        German credit (y = 1: good credit) are the same under both; :func:`label_meaning` says what y = 1 means.
    data_dir : path, optional
        Folder with the raw files (``adult/``, ``bank/``, ``compas/``, ``german/``). Defaults to
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


def _group_coder(config: Configuration, folder: Path):
    """A function giving each AIF360 split's group codes, and the groups' names."""
    if config.intersection:
        k = len(config.intersection)
        named = {attribute: (zero, one) for attribute, zero, one in config.group_labels}
        labels = [named.get(attribute, (f"unprivileged {attribute}", f"privileged {attribute}"))
                  for attribute in config.intersection]
        names = tuple(", ".join(labels[i][(code >> (k - 1 - i)) & 1] for i in range(k))
                      for code in range(2 ** k))
        return (lambda part: sum(_binary(part, attribute) << (k - 1 - i)
                                 for i, attribute in enumerate(config.intersection)), names)
    if config.raw_column:
        raw = pd.read_csv(folder / DATASETS[config.dataset].paths[0], index_col="id",
                          usecols=["id", config.raw_column])[config.raw_column]
        raw.index = raw.index.astype(str)
        names = tuple(sorted(raw.unique()))
        codes = {value: code for code, value in enumerate(names)}
        return (lambda part: raw.loc[list(part.instance_names)].map(codes)
                .to_numpy(dtype=np.int64), names)
    return (lambda part: _binary(part, config.protected_attribute),
            ("unprivileged", "privileged"))


def available() -> list[str]:
    """Names of every configuration."""
    return list(CONFIGURATIONS)


def register_configuration(config: Configuration, *, replace: bool = False) -> Configuration:
    """Add ``config`` to :data:`CONFIGURATIONS`, after which :func:`load_dataset`, the study's
    grids, tables and figures know it. A configuration of a new dataset carries the dataset's
    :class:`DatasetSource` in ``source`` (with :class:`~posthoc.rawfiles.RawFile` records for
    its files), which is registered with it."""
    if not isinstance(config, Configuration):
        raise TypeError(f"config must be a posthoc.Configuration; got {type(config).__name__}.")
    if config.name in CONFIGURATIONS and not replace:
        raise ValueError(f"configuration {config.name!r} is registered already; pass "
                         "replace=True to replace it.")
    source = config.source
    if source is not None:
        if source.name != config.dataset:
            raise ValueError(f"source {source.name!r} of configuration {config.name!r} must be "
                             f"its dataset {config.dataset!r}.")
        for file in source.files:
            if isinstance(file, RawFile):
                register_raw_file(file)
        DATASETS[source.name] = source
    check_choice("dataset", config.dataset, DATASETS)
    CONFIGURATIONS[config.name] = config
    return config



__all__ = ["CONFIGURATIONS", "Configuration", "Dataset", "LABEL_CODINGS", "PAPER_CONFIGURATIONS",
           "DATASETS", "DatasetSource", "SPLIT_SEED", "aif360_dataset", "available",
           "label_meaning", "load_aif360", "load_dataset", "register_configuration",
           "short_label"]
