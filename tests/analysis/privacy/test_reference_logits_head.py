"""References of a model that ends in a linear Dense (logits, no softmax) are read as logits.

Found on the /privacy page: such a clone is its own logits runner, and its outputs were stored as
probabilities, so scoring stopped with "'probs' in reference 0 must lie in [0, 1]".
"""

from __future__ import annotations

import numpy as np

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.privacy import MembershipAuditSpec, ModelSource, SlicingOptions, run_membership_audit
from analysis.privacy.reference_spec import ReferenceOptions, TrainingRecipe


def test_a_linear_head_model_gets_reference_attacks(loupe_home, tmp_path):
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(hidden))  # linear: logits
    model.save(tmp_path / "linear.keras")
    rng = np.random.default_rng(0)
    sets = {}
    for role in (DatasetRole.MEMBERS, DatasetRole.NONMEMBERS):
        sets[role] = tmp_path / f"{role.value}.npz"
        np.savez(sets[role], x=rng.normal(size=(60, 6)).astype(np.float32), y=np.arange(60) % 3)
    ModelRegistry(loupe_home).register(
        RegisterModelSpec(path=tmp_path / "linear.keras", model_id="linear", datasets=sets)
    )
    result = run_membership_audit(
        MembershipAuditSpec(
            source=ModelSource(model_id="linear"),
            attacks=("lira", "rmia"),
            slicing=SlicingOptions.parse("none"),
            workers=1,
            reference=ReferenceOptions(n_references=2, recipe=TrainingRecipe(epochs=1)),
        )
    )
    assert result.reference is not None and result.reference.n_used == 2
    assert [row.attack.value for row in result.rows] == ["lira", "rmia"]
    assert all(0.0 <= row.auc <= 1.0 for row in result.rows)
