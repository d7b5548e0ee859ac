"""The paper's claims, each in the paper's words and judged by one function with one criterion.

Every function takes tables computed elsewhere (by :mod:`posthoc.repro.comparison`,
:mod:`posthoc.repro.sensitivity` or :mod:`posthoc.repro.models`) and returns a
:class:`Verdict`: the claim as the paper words it, where it says so, one of three verdicts
(``supported``, ``partly supported``, ``not supported``; ``undecided`` when the data cannot
decide), the criterion, written before any number was seen, the evidence, with effect sizes
and percentile-bootstrap intervals over the seeds (networks), the one number it rests on,
and what was left out.

Three rules hold for every claim:

- A result that gives one decision to at least 99% of a split on most seeds (*one-class*,
  :data:`posthoc.diagnostics.ONE_CLASS_SHARE`) never counts as a method "performing best",
  nor as a gain: its bias is near 0 by construction. Such results are counted instead, and
  the verdict with them is given.
- A claim reads ``supported`` only when every part of its words holds; where the evidence
  contradicts a part, the verdict is at most ``partly supported``.
- A claim about predicting is judged on held-out data; a statistic compared with noise is
  read in the direction the paper's inference needs; a count is compared with what chance
  gives.
"""

from .discussion import (WEAKEST_BASELINE, adversarial_claim, fine_tuning_claim,
                         layerwise_claim, random_claim, runtime_claim)
from .models import (NOISE_QUANTILE, few_parameters_claim, margin_claim, network_claim,
                     regression_claim, singular_values_claim, spread_claim)
from .overall import (DESIGNED_FOR, average_claim, designed_claim, each_best_claim,
                      initial_conditions_claim, majority_claim, pareto_claim)
from .ranking import (TIE, best_methods, reference_beaten, reference_unbeaten, setting_stats,
                      tied_methods)
from .verdict import (CLAIM_COLUMNS, CLAIMS, LEVELS, Claim, Verdict, binomial_tail,
                      bootstrap_interval, verdict_table)

__all__ = ["CLAIMS", "CLAIM_COLUMNS", "Claim", "DESIGNED_FOR", "LEVELS", "NOISE_QUANTILE", "TIE",
           "WEAKEST_BASELINE", "Verdict", "adversarial_claim", "average_claim", "best_methods",
           "binomial_tail", "bootstrap_interval", "designed_claim", "each_best_claim",
           "few_parameters_claim", "fine_tuning_claim", "initial_conditions_claim",
           "layerwise_claim", "majority_claim", "margin_claim", "network_claim",
           "pareto_claim", "random_claim", "reference_beaten", "reference_unbeaten",
           "regression_claim", "runtime_claim", "setting_stats", "singular_values_claim",
           "spread_claim", "tied_methods", "verdict_table"]
