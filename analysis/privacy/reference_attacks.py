"""Scoring with reference models: LiRA and offset (tensorflow-privacy's ``advanced_mia``) and RMIA.

Every function here is pure NumPy on per-example statistics; training the references is
:mod:`analysis.privacy.reference_models`. Shapes: ``n`` audited examples (members then
non-members of the target), ``K`` references.

- :class:`ReferenceOutputs`: the target's and the references' probability of the true class,
  ``[n]`` and ``[K, n]``, and ``in_mask`` ``[K, n]`` (True where reference k trained on example i).
- :func:`compute_scores`: one membership score per example for one attack, **higher = more
  likely a member** for every attack (LiRA's library score is negated accordingly).

LiRA (Carlini et al. 2022) works on the logit-scaled confidence ``log(p / (1 - p))`` computed
by ``advanced_mia.calculate_statistic(option="logit")``; online it fits IN and OUT Gaussians
(``option="both"``), offline only OUT ones (``option="out"``); ``fix_variance`` shares one
variance across examples (more stable below ~64 references). The offset attack subtracts the
OUT mean. RMIA (Zarifzadeh et al. 2024) compares the pairwise likelihood ratio
``(p(x|target) / p(x)) / (p(z|target) / p(z))`` against population points ``z`` and scores
the fraction of ``z`` it beats by ``gamma``; offline, ``p(x) = ((1 + a) p_OUT(x) + (1 - a)) / 2``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from analysis.errors import AnalysisInputError

_EPS = 1e-12
RMIA_A_GRID = tuple(np.round(np.linspace(0.0, 1.0, 11), 2))


class ReferenceScoring(StrEnum):
    """How the reference models are used."""

    LIRA = "lira"  # online LiRA: IN and OUT Gaussians
    LIRA_OFFLINE = "lira-offline"  # OUT Gaussian only
    OFFSET = "offset"  # target statistic minus the OUT mean
    RMIA = "rmia"  # online RMIA: p(x) averaged over every reference
    RMIA_OFFLINE = "rmia-offline"  # p(x) from OUT references and the parameter a


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceOutputs:
    """The statistics the reference attacks read, validated.

    ``target_probs`` ``[n]`` and ``reference_probs`` ``[K, n]``: probability of the true class,
    float64 in [0, 1]; ``target_logit`` ``[n]`` and ``reference_logits`` ``[K, n]``: LiRA's
    ``log(p / (1 - p))`` from ``calculate_statistic``; ``in_mask`` ``[K, n]`` bool;
    ``population`` ``[n]`` bool: the examples RMIA compares against (never in the target's training).
    """

    target_probs: np.ndarray
    reference_probs: np.ndarray
    target_logit: np.ndarray
    reference_logits: np.ndarray
    in_mask: np.ndarray
    population: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.target_probs)
        for name in ("reference_probs", "reference_logits", "in_mask"):
            shape = getattr(self, name).shape
            if len(shape) != 2 or shape[1] != n or shape[0] != self.reference_probs.shape[0]:
                raise AnalysisInputError(
                    f"reference {name} has shape {list(shape)}; expected [references, {n}] "
                    f"(one column per audited example)"
                )
        if self.population.shape != (n,) or not self.population.any():
            raise AnalysisInputError("RMIA needs at least one population example that the target did not train on")

    @property
    def n_references(self) -> int:
        return int(self.reference_probs.shape[0])

    @classmethod
    def from_outputs(
        cls,
        target: tuple[np.ndarray, bool],
        references: list[tuple[np.ndarray, bool]],
        labels: np.ndarray,
        in_mask: np.ndarray,
        population: np.ndarray,
    ) -> ReferenceOutputs:
        """From raw outputs, each ``(outputs [n, classes], is_logits)``: the target's and each reference's."""
        labels = np.asarray(labels).astype(np.int64)
        target_probs, target_logit = true_class_statistics(*target, labels)
        pairs = [true_class_statistics(outputs, is_logits, labels) for outputs, is_logits in references]
        return cls(
            target_probs=target_probs,
            reference_probs=np.stack([p for p, _ in pairs]),
            target_logit=target_logit,
            reference_logits=np.stack([s for _, s in pairs]),
            in_mask=np.asarray(in_mask, dtype=bool),
            population=np.asarray(population, dtype=bool),
        )


def true_class_statistics(outputs: np.ndarray, is_logits: bool, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(p_y [n], log(p_y / (1 - p_y)) [n])`` by ``advanced_mia.calculate_statistic``."""
    from analysis.privacy.library import calculate_statistic

    outputs = np.asarray(outputs, dtype=np.float64)
    if outputs.shape[0] != len(labels):
        raise AnalysisInputError(f"outputs have {outputs.shape[0]} rows; the audit has {len(labels)} examples")
    probs = calculate_statistic(outputs.copy(), labels, is_logits=is_logits, option="conf with prob")
    logit = calculate_statistic(outputs.copy(), labels, is_logits=is_logits, option="logit")
    return np.asarray(probs, dtype=np.float64), np.asarray(logit, dtype=np.float64)


def split_by_membership(stats: np.ndarray, in_mask: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``advanced_mia``'s layout: per example, the IN and the OUT statistics as ``[m, 1]`` arrays."""
    stat_in = [stats[in_mask[:, i], i][:, None] for i in range(stats.shape[1])]
    stat_out = [stats[~in_mask[:, i], i][:, None] for i in range(stats.shape[1])]
    return stat_in, stat_out


def compute_lira_scores(
    target: np.ndarray, stats: np.ndarray, in_mask: np.ndarray, *, online: bool, fix_variance: bool
) -> np.ndarray:
    """LiRA membership score ``[n]`` (higher = member) through ``advanced_mia.compute_score_lira``."""
    from analysis.privacy.library import compute_score_lira

    stat_in, stat_out = split_by_membership(stats, in_mask)
    scores = compute_score_lira(
        np.asarray(target, dtype=np.float64)[:, None],
        stat_in,
        stat_out,
        option="both" if online else "out",
        fix_variance=fix_variance,
        median_or_mean="mean",
    )
    # The library's score is log Pr(out) - log Pr(in) online (small = member) and log Pr(out)
    # offline, where a member sits in the OUT Gaussian's upper tail: the offline test is one-sided.
    if online:
        return -np.asarray(scores)
    return _one_sided_offline(target, stat_out, fix_variance=fix_variance)


def _one_sided_offline(target: np.ndarray, stat_out: list[np.ndarray], *, fix_variance: bool) -> np.ndarray:
    """Offline LiRA: how far above the OUT mean the target's statistic lies, in OUT standard deviations.

    ``advanced_mia``'s ``option="out"`` returns the two-sided ``log Pr(out)``; the paper's
    offline test is one-sided (a member's confidence is *higher*), so Loupe takes the same
    library fit (its ``compute_score_offset`` for the mean) and divides by the OUT spread.
    """
    from analysis.privacy.library import compute_score_offset

    offset = compute_score_offset(
        np.asarray(target, dtype=np.float64)[:, None], [], stat_out, option="out", median_or_mean="mean"
    )
    deviations = [s[:, 0] - np.nanmean(s[:, 0]) if len(s) else np.zeros(0) for s in stat_out]
    if fix_variance:
        spread = np.full(len(stat_out), np.nanstd(np.concatenate(deviations)))
    else:
        spread = np.array([np.nanstd(d) if len(d) > 1 else np.nan for d in deviations])
        spread = np.where(np.isfinite(spread), spread, np.nanmean(spread) if np.isfinite(spread).any() else 1.0)
    return np.asarray(offset) / (spread + 1e-30)


def compute_offset_scores(target: np.ndarray, stats: np.ndarray, in_mask: np.ndarray) -> np.ndarray:
    """Offset membership score ``[n]``: target statistic minus the mean OUT statistic (``compute_score_offset``)."""
    from analysis.privacy.library import compute_score_offset

    _, stat_out = split_by_membership(stats, in_mask)
    return np.asarray(
        compute_score_offset(
            np.asarray(target, dtype=np.float64)[:, None], [], stat_out, option="out", median_or_mean="mean"
        )
    )


def compute_rmia_scores(
    target_probs: np.ndarray,
    reference_probs: np.ndarray,
    in_mask: np.ndarray,
    population: np.ndarray,
    *,
    offline: bool,
    a: float,
    gamma: float = 1.0,
) -> np.ndarray:
    """RMIA score ``[n]`` in [0, 1]: the share of population points ``z`` with ``LR(x, z) >= gamma``.

    ``LR(x, z) = (p(x|target) / p(x)) / (p(z|target) / p(z))``; ``p(x)`` averages every
    reference online, and offline is ``((1 + a) p_OUT(x) + (1 - a)) / 2`` from OUT references.
    """
    marginal = _rmia_marginal(reference_probs, in_mask, offline=offline, a=a)
    ratio = np.asarray(target_probs, dtype=np.float64) / np.maximum(marginal, _EPS)
    z_ratios = np.sort(ratio[np.asarray(population, dtype=bool)])
    # LR(x, z) >= gamma  <=>  ratio_z <= ratio_x / gamma
    return np.searchsorted(z_ratios, ratio / gamma, side="right") / len(z_ratios)


def _rmia_marginal(reference_probs: np.ndarray, in_mask: np.ndarray, *, offline: bool, a: float) -> np.ndarray:
    if not offline:
        return reference_probs.mean(axis=0)
    out = np.where(in_mask, np.nan, reference_probs)
    with warnings.catch_warnings():  # an example no OUT reference saw: filled in below
        warnings.simplefilter("ignore", RuntimeWarning)
        p_out = np.nanmean(out, axis=0)
    p_out = np.where(np.isfinite(p_out), p_out, np.nanmean(p_out))  # an example no OUT model saw
    return ((1 + a) * p_out + (1 - a)) / 2


def tune_rmia_a(reference_probs: np.ndarray, in_mask: np.ndarray) -> float:
    """The offline ``a`` that best separates IN from OUT when each reference in turn plays the target.

    As in the paper: the other references are the OUT models, and the AUC of the offline score
    against the playing reference's own membership picks ``a`` from :data:`RMIA_A_GRID`.
    With a single reference there is nothing to tune against: ``a = 0.5``.
    """
    from sklearn.metrics import roc_auc_score

    k = reference_probs.shape[0]
    if k < 2:
        return 0.5
    best, best_auc = 0.5, -1.0
    players = range(min(k, 4))
    for a in RMIA_A_GRID:
        aucs = []
        for j in players:
            others = np.delete(np.arange(k), j)
            truth = in_mask[j]
            scores = compute_rmia_scores(
                reference_probs[j], reference_probs[others], in_mask[others], ~truth, offline=True, a=float(a)
            )
            if truth.any() and (~truth).any():
                aucs.append(roc_auc_score(truth, scores))
        auc = float(np.mean(aucs)) if aucs else 0.5
        if auc > best_auc + 1e-9:
            best, best_auc = float(a), auc
    return best


def compute_scores(
    scoring: ReferenceScoring,
    outputs: ReferenceOutputs,
    *,
    fix_variance: bool,
    rmia_a: float,
    rmia_gamma: float,
) -> np.ndarray:
    """The membership score ``[n]`` of ``scoring`` (higher = more likely a member)."""
    if scoring is ReferenceScoring.LIRA or scoring is ReferenceScoring.LIRA_OFFLINE:
        return compute_lira_scores(
            outputs.target_logit,
            outputs.reference_logits,
            outputs.in_mask,
            online=scoring is ReferenceScoring.LIRA,
            fix_variance=fix_variance,
        )
    if scoring is ReferenceScoring.OFFSET:
        return compute_offset_scores(outputs.target_logit, outputs.reference_logits, outputs.in_mask)
    return compute_rmia_scores(
        outputs.target_probs,
        outputs.reference_probs,
        outputs.in_mask,
        outputs.population,
        offline=scoring is ReferenceScoring.RMIA_OFFLINE,
        a=rmia_a,
        gamma=rmia_gamma,
    )
