"""The post-hoc methods, one module each, behind :func:`posthoc.debias`."""

from .adversarial import adversarial_fine_tuning
from .baselines import BASELINES, fit_baseline
from .layerwise import AskTell, SkoptGBRT, layerwise_optimisation
from .random import random_perturbation, random_perturbation_loop

__all__ = ["AskTell", "BASELINES", "SkoptGBRT", "layerwise_optimisation", "adversarial_fine_tuning", "fit_baseline", "random_perturbation",
           "random_perturbation_loop"]
