"""Synthetic reference outputs for the reference attacks, in the ``--reference-outputs`` file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from analysis.privacy.reference_models import reference_masks
from analysis.privacy.spec import OutputArraysSource


def write_reference_outputs(
    source: OutputArraysSource,
    folder: Path,
    *,
    k: int = 8,
    in_margin: float = 3.0,
    out_margin: float = 1.5,
    seed: int = 0,
) -> Path:
    """``k`` files ``ref-NN.npz``: logits over the members then the non-members of ``source``, the
    true class ``in_margin`` above noise where the reference trained on the example, else ``out_margin``."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.concatenate([source.members.labels, source.nonmembers.labels])
    n, classes = len(labels), source.members.outputs.shape[1]
    masks = reference_masks(n, k, seed)
    for index in range(k):
        rng = np.random.default_rng([seed, index, 99])
        logits = rng.normal(size=(n, classes))
        logits[np.arange(n), labels] += np.where(masks[index], in_margin, out_margin)
        np.savez(folder / f"ref-{index:02d}.npz", logits=logits, in_mask=masks[index], labels=labels)
    return folder
