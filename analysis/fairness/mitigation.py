"""Threshold strategies: one threshold for everyone, or per-group thresholds from fairlearn's ``ThresholdOptimizer``.

    result = compute_mitigation(MitigationSpec(fairness=FairnessSpec(model_id="credit-mlp", sensitive=("group",)),
                                               strategy="equal_opportunity"))
    result.accuracy_cost            # mitigated overall accuracy - single-threshold overall accuracy
    result.to_dict()                # the ``fairness --mitigate`` JSON (docs/fairness.md)

The scores (a model's probability of class 1 on its data, or a predictions table's score column)
are wrapped in a scikit-learn estimator whose only feature *is* the score (:class:`ScoreColumn`),
and handed to ``ThresholdOptimizer(prefit=True, predict_method="predict_proba")``: fairlearn picks
the per-group thresholds, Loupe never re-implements them. Both the single-threshold predictions
and the mitigated ones then go through the fairness engine (:func:`compute_fairness_slices`) as
predicted labels, so every slice gets the same metrics and bootstrap intervals as the page's
main table.

``ThresholdOptimizer`` randomizes between two thresholds for some groups (a row between them is
positive with a probability); the draw is seeded by ``MitigationSpec.random_state``, so a run
is reproducible. The thresholds are fitted and evaluated on the same rows (in-sample).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin

from analysis.errors import AnalysisInputError, describe_choices
from analysis.fairness.result import FairnessResult
from analysis.fairness.spec import FairnessSpec
from analysis.fairness.tables import FairnessData

DEFAULT_GRID_SIZE = 1000  # fairlearn's default: score grid points searched per group


class Strategy(StrEnum):
    """How predictions are made from scores; all but ``single_threshold`` use ``ThresholdOptimizer``."""

    SINGLE_THRESHOLD = "single_threshold"
    DEMOGRAPHIC_PARITY = "demographic_parity"
    EQUAL_OPPORTUNITY = "equal_opportunity"
    EQUALIZED_ODDS = "equalized_odds"


# The ``constraints`` argument of fairlearn's ThresholdOptimizer for each strategy.
FAIRLEARN_CONSTRAINTS = {
    Strategy.DEMOGRAPHIC_PARITY: "demographic_parity",
    Strategy.EQUAL_OPPORTUNITY: "true_positive_rate_parity",
    Strategy.EQUALIZED_ODDS: "equalized_odds",
}
ONE_CLASS_GROUP = (
    "strategy {strategy!r} cannot be satisfied: group {column}={group} has only label {label} "
    "({count} rows); every group needs both labels. Merge or drop that group, or choose 'single_threshold'"
)
MITIGATED_PREDICTION = "_mitigated"
LABEL = "_label"


class ScoreColumn(ClassifierMixin, BaseEstimator):
    """A prefit binary classifier whose one feature is its own score: ``predict_proba([[s]]) = [[1 - s, s]]``.

    ``fit`` does nothing (the model is trained already); it only sets ``classes_`` so scikit-learn
    and fairlearn see a fitted estimator.
    """

    def fit(self, X: Any = None, y: Any = None) -> ScoreColumn:
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        score = np.asarray(X, dtype=np.float64).reshape(len(X), -1)[:, 0]
        return np.stack([1.0 - score, score], axis=1)

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


@dataclass(frozen=True, slots=True, kw_only=True)
class MitigationSpec:
    """Apply ``strategy`` to the scores of ``fairness``'s input, per group of column ``by``.

    ``fairness``: the analysis whose rows, slicing and bootstrap settings are used (its input must
    have scores, not predicted labels). ``by``: the sensitive column whose groups get their own
    thresholds (default: its first sensitive column). ``threshold``: the single threshold compared
    against (``score >= threshold`` is positive). ``random_state`` seeds ThresholdOptimizer's
    randomized predictions; ``grid_size`` is its score grid.
    """

    fairness: FairnessSpec
    strategy: Strategy | str = Strategy.SINGLE_THRESHOLD
    by: str | None = None
    threshold: float = 0.5
    random_state: int = 0
    grid_size: int = DEFAULT_GRID_SIZE

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        try:
            set_(self, "strategy", Strategy(self.strategy))
        except ValueError as error:
            choices = describe_choices(s.value for s in Strategy)
            raise AnalysisInputError(f"threshold strategy {self.strategy!r} is not valid; choose {choices}") from error
        if not self.fairness.uses_scores:
            raise AnalysisInputError(
                "threshold strategies need scores; the predictions table gives predicted labels (--pred): "
                "give a score column (--score) instead"
            )
        by = self.by or self.fairness.sensitive[0]
        if by not in self.fairness.sensitive:
            raise AnalysisInputError(
                f"column {by!r} for per-group thresholds is not a sensitive column; "
                f"choose {describe_choices(self.fairness.sensitive)}"
            )
        set_(self, "by", by)
        threshold = self.threshold
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 <= threshold <= 1.0:
            raise AnalysisInputError(f"threshold {threshold!r} must be a number in [0, 1]")
        set_(self, "threshold", float(threshold))
        for name, value, low, high in (
            ("random_state", self.random_state, 0, 2**32 - 1),
            ("grid_size", self.grid_size, 10, 100_000),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise AnalysisInputError(f"{name} {value!r} must be an integer from {low} to {high}")


@dataclass(frozen=True, slots=True, kw_only=True)
class GroupThreshold:
    """fairlearn's rule for one group: with probability ``p0`` predict ``score {operator0} threshold0``,
    else ``score {operator1} threshold1`` (equalized odds: with probability ``p_ignore`` predict 1 with
    probability ``prediction_constant`` instead). A deterministic rule has ``p0`` 1 (or 0)."""

    group: str
    count: int
    threshold0: float
    operator0: str
    p0: float
    threshold1: float
    operator1: str
    p1: float
    p_ignore: float = 0.0
    prediction_constant: float = 0.0

    @property
    def randomized(self) -> bool:
        return 0.0 < self.p0 < 1.0 or self.p_ignore > 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "operations": [
                {"p": self.p0, "operator": self.operator0, "threshold": self.threshold0},
                {"p": self.p1, "operator": self.operator1, "threshold": self.threshold1},
            ],
            "p_ignore": self.p_ignore,
            "prediction_constant": self.prediction_constant,
            "randomized": self.randomized,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class MitigationResult:
    """Per-slice metrics with intervals under one threshold (``single``) and under ``strategy`` (``mitigated``).

    For ``single_threshold`` both are the same analysis. ``thresholds``: fairlearn's rule per group
    of ``by`` (empty for ``single_threshold``).
    """

    strategy: Strategy
    by: str
    threshold: float
    random_state: int
    fairlearn_constraint: str | None
    thresholds: tuple[GroupThreshold, ...]
    single: FairnessResult
    mitigated: FairnessResult
    notes: tuple[str, ...] = field(default=())

    def overall_accuracy(self, which: str = "mitigated") -> float | None:
        result = self.mitigated if which == "mitigated" else self.single
        return result.overall[0].metrics["accuracy"].value

    @property
    def accuracy_cost(self) -> float | None:
        """Mitigated minus single-threshold overall accuracy (negative: the strategy costs accuracy)."""
        after, before = self.overall_accuracy("mitigated"), self.overall_accuracy("single")
        return None if after is None or before is None else after - before

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy.value,
            "by": self.by,
            "threshold": self.threshold,
            "random_state": self.random_state,
            "fairlearn_constraint": self.fairlearn_constraint,
            "group_thresholds": [t.to_dict() for t in self.thresholds],
            "overall_accuracy": {
                "single_threshold": self.single.overall[0].metrics["accuracy"].to_dict(),
                "mitigated": self.mitigated.overall[0].metrics["accuracy"].to_dict(),
                "cost": self.accuracy_cost,
            },
            "single_threshold": self.single.to_dict(),
            "mitigated": self.mitigated.to_dict(),
            "notes": list(self.notes),
        }


def mitigated_predictions(data: FairnessData, spec: MitigationSpec) -> tuple[np.ndarray, tuple[GroupThreshold, ...]]:
    """int64 ``[n]`` 0/1 predictions under ``spec.strategy`` and fairlearn's rule per group.

    ``single_threshold``: ``score >= threshold``. Otherwise ``ThresholdOptimizer`` (prefit, on
    :class:`ScoreColumn`) fitted on these rows, predicting with ``random_state``.
    """
    scores = np.asarray(data.scores, dtype=np.float64)
    if spec.strategy is Strategy.SINGLE_THRESHOLD:
        return (scores >= spec.threshold).astype(np.int64), ()
    from fairlearn.postprocessing import ThresholdOptimizer

    groups = np.asarray(data.sensitive[spec.by])
    labels = np.asarray(data.y_true, dtype=np.int64)
    _check_both_labels(groups, labels, spec)
    optimizer = ThresholdOptimizer(
        estimator=ScoreColumn().fit(),
        constraints=FAIRLEARN_CONSTRAINTS[spec.strategy],
        objective="accuracy_score",
        grid_size=spec.grid_size,
        prefit=True,
        predict_method="predict_proba",
    )
    x = scores[:, None]
    try:
        optimizer.fit(x, labels, sensitive_features=groups)
    except ValueError as error:  # fairlearn's own refusal, e.g. a degenerate group we did not foresee
        raise AnalysisInputError(f"strategy {spec.strategy.value!r} failed in fairlearn: {error}") from error
    predicted = optimizer.predict(x, sensitive_features=groups, random_state=spec.random_state)
    rules = optimizer.interpolated_thresholder_.interpolation_dict
    thresholds = tuple(
        GroupThreshold(
            group=str(group),
            count=int((groups == group).sum()),
            threshold0=float(rule.operation0.threshold),
            operator0=rule.operation0.operator,
            p0=float(rule.p0),
            threshold1=float(rule.operation1.threshold),
            operator1=rule.operation1.operator,
            p1=float(rule.p1),
            p_ignore=float(rule.get("p_ignore", 0.0)),
            prediction_constant=float(rule.get("prediction_constant", 0.0)),
        )
        for group, rule in sorted(rules.items(), key=lambda item: str(item[0]))
    )
    return np.asarray(predicted, dtype=np.int64), thresholds


def _check_both_labels(groups: np.ndarray, labels: np.ndarray, spec: MitigationSpec) -> None:
    for group in sorted(set(groups.tolist())):
        present = np.unique(labels[groups == group])
        if present.size < 2:
            raise AnalysisInputError(
                ONE_CLASS_GROUP.format(
                    strategy=spec.strategy.value,
                    column=spec.by,
                    group=group,
                    label=int(present[0]),
                    count=int((groups == group).sum()),
                )
            )


def compute_mitigation(spec: MitigationSpec) -> MitigationResult:
    """Per-slice metrics (with the fairness engine's bootstrap intervals) before and after ``spec.strategy``."""
    from analysis.fairness.engine import _load, compute_fairness_slices  # the engine's reader, shared

    data, _, _, _, notes = _load(spec.fairness)
    predicted, thresholds = mitigated_predictions(data, spec)
    single = compute_fairness_slices(_as_predictions(spec.fairness, data, data.scores >= spec.threshold))
    mitigated = single
    if spec.strategy is not Strategy.SINGLE_THRESHOLD:
        mitigated = compute_fairness_slices(_as_predictions(spec.fairness, data, predicted))
        if any(t.randomized for t in thresholds):
            notes = [
                *notes,
                f"ThresholdOptimizer randomizes between two thresholds for some groups; the draw is seeded "
                f"(random_state {spec.random_state})",
            ]
    return MitigationResult(
        strategy=spec.strategy,
        by=spec.by,
        threshold=spec.threshold,
        random_state=spec.random_state,
        fairlearn_constraint=FAIRLEARN_CONSTRAINTS.get(spec.strategy),
        thresholds=thresholds,
        single=single,
        mitigated=mitigated,
        notes=tuple(notes),
    )


def _as_predictions(fairness: FairnessSpec, data: FairnessData, predicted: np.ndarray) -> FairnessSpec:
    """The same analysis on a table of 0/1 predictions (labels and sensitive columns of ``data``)."""
    table = pd.DataFrame({LABEL: data.y_true, MITIGATED_PREDICTION: np.asarray(predicted, dtype=np.int64)})
    for column in fairness.sensitive:
        table[column] = data.sensitive[column]
    return replace(
        fairness,
        predictions=table,
        model_id=None,
        data_path=None,
        split=None,
        label=LABEL,
        score=None,
        prediction=MITIGATED_PREDICTION,
        thresholds=(0.5,),
    )
