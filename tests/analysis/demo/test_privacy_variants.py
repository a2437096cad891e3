"""The privacy variants: disjoint data sides, and a family that covers the three claims.

Building a variant is exercised by `models build-demo --privacy-variants` (docs/privacy_utility.md has its
numbers); the pieces it joins are tested in tests/analysis/training and tests/analysis/privacy."""

from __future__ import annotations

from analysis.demo.variants.build import (
    N_MEMBERS,
    VARIANTS,
    variant_data,
)


def test_sides_are_disjoint_samples_of_the_sizes_documented():
    data = variant_data(0)
    assert len(data["members"][0]) == N_MEMBERS
    rows = {name: {tuple(r) for r in x} for name, (x, _) in data.items()}
    names = list(rows)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not rows[a] & rows[b], (a, b)
    # the family covers the three claims: epochs, early stopping, DP-SGD at several noise levels
    assert len({v.epochs for v in VARIANTS if v.noise_multiplier is None and not v.early_stopping}) >= 3
    assert any(v.early_stopping for v in VARIANTS)
    assert len({v.noise_multiplier for v in VARIANTS if v.noise_multiplier is not None}) >= 3
