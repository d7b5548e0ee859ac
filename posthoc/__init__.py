"""posthoc: post-hoc methods for debiasing neural networks, and the paper's study.

The public API: data (:func:`load_dataset`, :class:`Dataset`, :class:`Split`), measures
(:func:`bias`, :func:`objective`, :func:`best_threshold`), the paper's network
(:class:`PaperNet`) and its trainer (:func:`train_network`, :func:`train_networks`), and the
post-hoc methods (:func:`debias`, :func:`evaluate`).
"""

from .data import CONFIGURATIONS, Dataset, Split, available, load_dataset
from .debias import METHODS, debias, evaluate
from .metrics import MEASURES, BestThreshold, accuracy, best_threshold, bias, objective
from .networks import PaperNet
from .models import compare_models
from .paper import paper_numbers
from .training import TrainingLog, train_network, train_networks

__version__ = "0.1.0"

__all__ = [
    "CONFIGURATIONS", "MEASURES", "METHODS", "BestThreshold", "Dataset", "PaperNet", "Split",
    "TrainingLog", "__version__", "accuracy", "available", "best_threshold", "bias",
    "compare_models", "debias", "evaluate", "load_dataset", "objective", "paper_numbers", "train_network",
    "train_networks",
]
