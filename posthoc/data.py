"""posthoc's data, gathered: :class:`~posthoc.split.Split` (one part of a dataset), the raw
files (:mod:`posthoc.rawfiles`), and the datasets and their configurations with
:func:`load_dataset` (:mod:`posthoc.configurations`)."""

from __future__ import annotations

from .configurations import (CONFIGURATIONS, DATASETS, LABEL_CODINGS, PAPER_CONFIGURATIONS,
                             SPLIT_SEED, Configuration, Dataset, DatasetSource, aif360_dataset,
                             available, label_meaning, load_aif360, load_dataset,
                             register_configuration, short_label)
from .rawfiles import (CHECKSUMS, RAW_FILES, RawFile, default_data_dir, ensure_files,
                       register_raw_file, sha256)
from .split import Split, group_codes

__all__ = ["CHECKSUMS", "CONFIGURATIONS", "Configuration", "DATASETS", "Dataset",
           "DatasetSource", "LABEL_CODINGS", "PAPER_CONFIGURATIONS", "RAW_FILES", "RawFile",
           "SPLIT_SEED",
           "Split", "aif360_dataset", "available", "default_data_dir", "ensure_files",
           "group_codes", "label_meaning", "load_aif360", "load_dataset",
           "register_configuration", "register_raw_file", "sha256", "short_label"]
