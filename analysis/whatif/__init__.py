"""What-If: edit a datapoint, find its counterfactual, see partial dependence.

    result = run_whatif(WhatIfSpec(model_id="credit-mlp", example=7, edits="income_k:42,debt_ratio:0.3",
                                   distance="l1", group_column="group", pd_feature="income_k"))
    result.edited_probabilities     # the model on the edited row
    result.counterfactual           # the nearest row (standardized L1/L2) with another predicted class
    result.other_group              # the same datapoint in another group (flipped input, or nearest row)
    result.partial_dependence       # scikit-learn's partial dependence and ICE curves

Tabular models only. The SHAP attributions of an edited datapoint are composed in the UI from
:mod:`analysis.explain` (capabilities do not import each other). Documented in docs/whatif.md.
"""

from analysis.whatif.engine import ResolvedWhatIf, resolve_whatif, run_whatif
from analysis.whatif.estimator import ModelEstimator
from analysis.whatif.spec import (
    Counterpart,
    Distance,
    PartialDependence,
    WhatIfResult,
    WhatIfSpec,
    format_edits,
    parse_edits,
)

__all__ = [
    "Counterpart",
    "Distance",
    "ModelEstimator",
    "PartialDependence",
    "ResolvedWhatIf",
    "WhatIfResult",
    "WhatIfSpec",
    "format_edits",
    "parse_edits",
    "resolve_whatif",
    "run_whatif",
]
