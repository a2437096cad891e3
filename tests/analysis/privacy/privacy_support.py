"""Synthetic classifier outputs for privacy-audit tests: seeded, small, checkable by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.privacy.inputs import ModelOutputs, OutputKind
from analysis.privacy.spec import OutputArraysSource


def make_logits(n: int, *, classes: int, margin: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``[n, classes]`` float32 logits whose true class is ``margin`` above standard-normal noise, and labels."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = rng.normal(size=(n, classes)).astype(np.float32)
    logits[np.arange(n), labels] += margin
    return logits, labels


def make_group(n: int, *, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).choice(np.array(["A", "B"]), n)


def leaky_source(
    n: int = 600, *, classes: int = 4, member_margin: float = 3.0, nonmember_margin: float = 1.5, seed: int = 0
) -> OutputArraysSource:
    """Members fit better than non-members (a leaky model); a ``group`` column for custom slices."""
    member_logits, member_labels = make_logits(n, classes=classes, margin=member_margin, seed=seed)
    other_logits, other_labels = make_logits(n, classes=classes, margin=nonmember_margin, seed=seed + 1)
    return OutputArraysSource(
        members=ModelOutputs(
            name="members",
            outputs=member_logits,
            kind=OutputKind.LOGITS,
            labels=member_labels,
            metadata={"group": make_group(n, seed=seed + 2)},
        ),
        nonmembers=ModelOutputs(
            name="non-members",
            outputs=other_logits,
            kind=OutputKind.LOGITS,
            labels=other_labels,
            metadata={"group": make_group(n, seed=seed + 3)},
        ),
    )


def save_outputs(
    path: Path, outputs: np.ndarray, labels: np.ndarray, *, key: str = "logits", **extra: np.ndarray
) -> Path:
    np.savez(path, **{key: outputs, "labels": labels}, **extra)
    return path
