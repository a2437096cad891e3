"""A data set whose every slice is below the minimum size: no disparity, with the reason, and no crash."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.cli.main import main
from analysis.fairness import FairnessSpec, compute_fairness_slices
from analysis.fairness.metrics import DISPARITY_KEYS


def tiny_table(n: int = 20) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame({"y": rng.integers(0, 2, n), "p": rng.random(n), "g": ["a", "b", "c", "d"] * (n // 4)})


def test_every_slice_too_small_gives_undefined_disparities_with_the_reason():
    spec = FairnessSpec(predictions=tiny_table(), label="y", score="p", sensitive=("g",), n_bootstrap=20)
    disparities = compute_fairness_slices(spec).to_dict()["disparities"]
    assert sorted(disparities) == sorted(DISPARITY_KEYS)
    for entries in disparities.values():
        assert [(e["over"], e["value"], e["ci"]) for e in entries] == [(["g"], None, None)]
        assert entries[0]["reason"] == "needs at least two slices with at least 30 rows"


def test_the_command_line_reports_it_and_exits_normally(loupe_home, tmp_path, capsys):
    path = tmp_path / "preds.csv"
    tiny_table().to_csv(path, index=False)
    args = ["fairness", "--predictions", str(path), "--label", "y", "--score", "p", "--sensitive", "g"]
    assert main([*args, "--bootstrap", "20"]) == 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "no disparity over g: needs at least two slices with at least 30 rows" in captured.out.splitlines()
