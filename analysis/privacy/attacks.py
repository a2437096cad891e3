"""The attacks Loupe offers: one table, each entry mapped to tensorflow-privacy's AttackType.

Threshold attacks (on loss, on prediction entropy) are deterministic and cheap. Trained
attacks fit scikit-learn models on the model's outputs; they draw randomness from NumPy's
global generator, which Loupe seeds per task (see :mod:`analysis.privacy.tasks`). MLP and
random forest are slow (tens of seconds per slice of a few thousand examples), so they are
opt-in; so is KNN, whose cost grows with the square of the slice size.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from analysis.errors import AnalysisInputError, describe_choices

if TYPE_CHECKING:
    from analysis.privacy.library import AttackType


class AttackKind(StrEnum):
    """A membership-inference attack, by the name used in specs, the CLI and the JSON."""

    THRESHOLD = "threshold"
    ENTROPY = "entropy"
    LR = "lr"
    MLP = "mlp"
    RF = "rf"
    KNN = "knn"
    LIRA = "lira"
    LIRA_OFFLINE = "lira-offline"
    OFFSET = "offset"
    RMIA = "rmia"
    RMIA_OFFLINE = "rmia-offline"

    @property
    def library_type(self) -> AttackType | None:
        """tensorflow-privacy's ``run_attacks`` type; None for reference attacks (scored in
        :mod:`analysis.privacy.reference_attacks`, not by one ``run_attacks`` call)."""
        from analysis.privacy.library import AttackType  # lazily: the CLI parser must start fast

        return AttackType[_LIBRARY_NAMES[self]] if self in _LIBRARY_NAMES else None

    @property
    def needs_references(self) -> bool:
        """Whether the attack scores against reference models (LiRA, offset, RMIA)."""
        return self not in _LIBRARY_NAMES

    @property
    def is_trained(self) -> bool:
        """Whether the attack fits a model (and so draws random numbers)."""
        return self in _LIBRARY_NAMES and self not in (AttackKind.THRESHOLD, AttackKind.ENTROPY)

    @property
    def is_default(self) -> bool:
        return self in DEFAULT_ATTACKS

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]

    @classmethod
    def parse(cls, name: str) -> AttackKind:
        try:
            return cls(name.strip().lower())
        except ValueError as error:
            raise AnalysisInputError(
                f"unknown attack {name!r}; attacks are {describe_choices(k.value for k in cls)}"
            ) from error


_LIBRARY_NAMES = {  # tensorflow-privacy's AttackType member names
    AttackKind.THRESHOLD: "THRESHOLD_ATTACK",
    AttackKind.ENTROPY: "THRESHOLD_ENTROPY_ATTACK",
    AttackKind.LR: "LOGISTIC_REGRESSION",
    AttackKind.MLP: "MULTI_LAYERED_PERCEPTRON",
    AttackKind.RF: "RANDOM_FOREST",
    AttackKind.KNN: "K_NEAREST_NEIGHBORS",
}
_DESCRIPTIONS = {
    AttackKind.THRESHOLD: "threshold on the loss (members have lower loss)",
    AttackKind.ENTROPY: "threshold on the modified prediction entropy (Song & Mittal)",
    AttackKind.LR: "logistic regression on outputs and loss (trained, cheap)",
    AttackKind.MLP: "multi-layer perceptron on outputs and loss (trained, slow)",
    AttackKind.RF: "random forest on outputs and loss (trained, slow)",
    AttackKind.KNN: "k-nearest neighbours on outputs and loss (trained, slow on big slices)",
    AttackKind.LIRA: "likelihood ratio against IN and OUT reference models (LiRA, online; trains references)",
    AttackKind.LIRA_OFFLINE: "one-sided test against OUT reference models only (LiRA, offline)",
    AttackKind.OFFSET: "confidence minus its mean on OUT reference models (offset attack)",
    AttackKind.RMIA: "pairwise likelihood ratio against population samples (RMIA, online)",
    AttackKind.RMIA_OFFLINE: "RMIA with OUT reference models only and the offline parameter a",
}
DEFAULT_ATTACKS = (AttackKind.THRESHOLD, AttackKind.ENTROPY, AttackKind.LR)
