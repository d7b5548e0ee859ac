"""The post-hoc methods, one module each, and the registry :func:`posthoc.debias` reads.

Each module defines its :class:`MethodSpec` (name, label, family, colour, options with
defaults and checks) and one ``fit`` function returning a :class:`Fit`; the registration
below is the only other place a built-in method is named.
"""

from . import adversarial, baselines, default, fairpredictor, layerwise, random, thresholdopt
from ._common import (POSTPROCESSOR_KINDS, DebiasResult, PostProcessorBase, frozen_copy,
                      input_width, load_result, scores_of)
from ._spec import (FAMILIES, METHODS, Fit, Kind, MethodSpec, NotApplicable, Option,
                    methods_of, register_method)

for _spec in (default.SPEC, random.SPEC, layerwise.SPEC, adversarial.SPEC, *baselines.SPECS,
              thresholdopt.SPEC, fairpredictor.SPEC):
    register_method(_spec)

__all__ = ["DebiasResult", "FAMILIES", "Fit", "Kind", "METHODS", "MethodSpec", "NotApplicable",
           "Option", "POSTPROCESSOR_KINDS", "PostProcessorBase", "frozen_copy", "input_width", "load_result",
           "methods_of", "register_method", "scores_of"]
