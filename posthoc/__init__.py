"""posthoc: post-hoc methods for debiasing neural networks.

The public API: data (:func:`load_dataset`, :class:`Dataset`, :class:`Split`), measures
(:data:`MEASURES`, :func:`bias`, :func:`objective`, :func:`best_threshold`), the objectives
the methods minimise (:class:`Objective`: the paper's weighted one or its final version's
constrained one), the paper's
network (:class:`PaperNet`) and its trainer (:func:`train_network`, :func:`train_networks`),
and the post-hoc methods (:data:`METHODS`, :func:`debias`, :func:`evaluate`). New methods
and measures join through :func:`register_method` and :func:`register_measure`.

The reproduction of the paper (its profiles, study, tables, claims and figures) lives in
:mod:`posthoc.repro`, which builds on this library; nothing here imports it.

Importing posthoc before torch asks torch for the processor-independent numerics of
:mod:`posthoc.numerics` (MKL's COMPATIBLE branch, AVX2 kernels), so that a network trained
here is the network trained on another x86-64 processor of the same vendor (training
differs between AMD and Intel processors: the networks behind the paper's results are data).
"""

# Must run before anything imports torch (see the module).
from . import numerics as _numerics  # isort: skip

_numerics.request()

from .data import (CONFIGURATIONS, Configuration, Dataset, DatasetSource, RawFile, Split,
                   available, load_dataset, register_configuration)
from .debias import debias, evaluate
from .methods import METHODS, DebiasResult, Fit, MethodSpec, Option, load_result, register_method
from .metrics import (MEASURES, GroupCounts, MeasureSpec, accuracy, bias, objective,
                      register_measure)
from .networks import PaperNet
from .objectives import Objective
from .thresholds import BestThreshold, best_threshold
from .training import TrainingLog, train_network, train_networks

__version__ = "0.1.0"

__all__ = [
    "__version__", "accuracy", "available", "best_threshold", "BestThreshold", "bias",
    "Configuration", "CONFIGURATIONS", "Dataset", "DatasetSource", "debias", "DebiasResult",
    "evaluate", "Fit", "GroupCounts", "load_dataset", "load_result", "MEASURES", "MeasureSpec",
    "METHODS", "MethodSpec", "Objective", "objective", "Option", "PaperNet", "RawFile",
    "register_configuration", "register_measure", "register_method", "Split", "train_network",
    "train_networks", "TrainingLog",
]
