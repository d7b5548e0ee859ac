"""The post-hoc methods, one module each, behind :func:`posthoc.debias`."""

from .adversarial import adversarial_fine_tuning
from .baselines import BASELINES, fit_baseline
from .random import random_perturbation, random_perturbation_loop

__all__ = ["BASELINES", "adversarial_fine_tuning", "fit_baseline", "random_perturbation",
           "random_perturbation_loop"]
