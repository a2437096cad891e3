"""The one door to tensorflow-privacy's membership-inference code.

The code ships in ``tensorflow-empirical-privacy`` (installed ``--no-deps`` into the
``tensorflow_privacy`` namespace). ``import tensorflow_privacy`` on TensorFlow 2.16+ fails
unless ``sys.skip_tf_privacy_import`` is set first; with it, the membership-inference
modules import without loading TensorFlow at all. Every other Loupe module imports the
library through here, so the flag is always set before the first import.
"""

from __future__ import annotations

import sys

sys.skip_tf_privacy_import = True  # must precede the first `import tensorflow_privacy`

from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack import (  # noqa: E402
    membership_inference_attack as mia,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.advanced_mia import (  # noqa: E402
    calculate_statistic,
    compute_score_lira,
    compute_score_offset,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.data_structures import (  # noqa: E402
    AttackInputData,
    AttackType,
    RocCurve,
    SingleAttackResult,
    SingleSliceSpec,
    SlicingFeature,
    SlicingSpec,
)
from tensorflow_privacy.privacy.privacy_tests.membership_inference_attack.dataset_slicing import (  # noqa: E402
    get_single_slice_specs,
    get_slice,
)

# Distribution names, for records' provenance.
LIBRARY_DISTRIBUTIONS = ("tensorflow-empirical-privacy", "tensorflow-privacy", "scikit-learn", "numpy", "scipy")

run_attacks = mia.run_attacks
run_membership_probability_analysis = mia.run_membership_probability_analysis


def model_quality(attack_input: AttackInputData) -> tuple[float | None, float | None, float | None, float | None]:
    """``(train accuracy, test accuracy, mean train loss, mean test loss)`` as the library computes them.

    Uses tensorflow-privacy's own privacy-report metadata (accuracy from the argmax of the
    logits or probabilities, loss from the attack input), so these match what its reports say.
    """
    metadata = mia._compute_missing_privacy_report_metadata(None, attack_input)
    return tuple(
        None if v is None else float(v)
        for v in (  # type: ignore[return-value]
            metadata.accuracy_train,
            metadata.accuracy_test,
            metadata.loss_train,
            metadata.loss_test,
        )
    )


__all__ = [
    "LIBRARY_DISTRIBUTIONS",
    "AttackInputData",
    "AttackType",
    "RocCurve",
    "SingleAttackResult",
    "SingleSliceSpec",
    "SlicingFeature",
    "SlicingSpec",
    "calculate_statistic",
    "compute_score_lira",
    "compute_score_offset",
    "get_single_slice_specs",
    "get_slice",
    "model_quality",
    "run_attacks",
    "run_membership_probability_analysis",
]
