"""Per-example exposure: membership risk scores, the loss distributions, the most exposed members.

Risk scores are tensorflow-privacy's membership probabilities (Song & Mittal's privacy risk
score, ``run_membership_probability_analysis``): for each example, the estimated
probability that it is a member given its loss.
"""

from __future__ import annotations

import io

import numpy as np

from analysis.privacy.inputs import ModelOutputs
from analysis.privacy.library import AttackInputData, SlicingSpec, run_membership_probability_analysis
from analysis.privacy.result import ExposedExample, LossHistogram

HISTOGRAM_BINS = 40
_SMALLEST_LOSS = 1e-8  # the library clips probabilities at 1e-8 before the log; losses below are noise


def compute_risk_scores(loss_members: np.ndarray, loss_nonmembers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Membership risk score per member and per non-member, each ``[n]`` in [0, 1]."""
    data = AttackInputData(loss_train=loss_members, loss_test=loss_nonmembers)
    result = run_membership_probability_analysis(data, SlicingSpec(entire_dataset=True))
    single = next(iter(result.membership_prob_results))
    return np.asarray(single.train_membership_probs), np.asarray(single.test_membership_probs)


def compute_loss_histogram(loss_members: np.ndarray, loss_nonmembers: np.ndarray) -> LossHistogram:
    """Both sides' losses on shared log-spaced bins, as fractions of each side."""
    low = max(float(min(loss_members.min(), loss_nonmembers.min())), _SMALLEST_LOSS)
    high = max(float(max(loss_members.max(), loss_nonmembers.max())), low * 10)
    edges = np.geomspace(low, high, HISTOGRAM_BINS + 1)

    def fractions(loss: np.ndarray) -> np.ndarray:
        counts, _ = np.histogram(np.clip(loss, low, high), bins=edges)
        return counts / max(len(loss), 1)

    return LossHistogram(edges=edges, members=fractions(loss_members), nonmembers=fractions(loss_nonmembers))


def most_exposed(members: ModelOutputs, loss: np.ndarray, risk: np.ndarray, count: int) -> tuple[ExposedExample, ...]:
    """The ``count`` members with the highest risk score (ties: lowest loss), with their images."""
    order = np.lexsort((loss, -risk))[:count]
    predicted = members.outputs.argmax(axis=1)
    return tuple(
        ExposedExample(
            index=int(i),
            label=int(members.labels[i]),
            predicted=int(predicted[i]),
            loss=float(loss[i]),
            risk_score=float(risk[i]),
            image_png=None if members.images is None else encode_png(members.images[i], members.image_range),
        )
        for i in order
    )


def encode_png(image: np.ndarray, value_range: tuple[float, float]) -> bytes:
    """An input image ``[h, w]`` or ``[h, w, 1|3|4]`` with values in ``value_range`` as PNG bytes."""
    from PIL import Image

    low, high = value_range
    scaled = np.clip((np.asarray(image, dtype=np.float64) - low) / (high - low), 0.0, 1.0)
    pixels = np.round(scaled * 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()
