"""``python -m analysis explain``: the documented JSON, human text, exit code 2 with one line for bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest

from analysis.cli.main import main
from tests.analysis.explain.explain_support import FEATURES, LINEAR_BIAS, LINEAR_WEIGHTS, register_linear


def test_json_output(loupe_home, tmp_path, capsys):
    arrays = register_linear(tmp_path)
    out = tmp_path / "shap.json"
    code = main(
        ["explain", "--model", "linear", "--examples", "0-2,7", "--background", "20", "--seed", "3", "--json", str(out)]
    )
    assert code == 0
    payload = json.loads(out.read_text())
    assert list(payload) == [
        "model",
        "revision",
        "explainer",
        "target",
        "background",
        "seed",
        "parameters",
        "dataset",
        "cached",
        "examples",
        "global",
    ]
    assert (payload["model"], payload["explainer"], payload["target"]) == ("linear", "exact", 0)
    assert [e["index"] for e in payload["examples"]] == [0, 1, 2, 7]
    seven = payload["examples"][3]
    assert seven["output"] == pytest.approx(float(arrays["x"][7] @ LINEAR_WEIGHTS + LINEAR_BIAS), abs=1e-5)
    assert sum(seven["attributions"].values()) == pytest.approx(seven["output"] - seven["expected_value"], abs=1e-5)
    assert list(payload["global"]["mean_abs"]) == list(FEATURES)
    captured = capsys.readouterr()
    assert "linear rev" in captured.out and "4 examples computed" in captured.out
    assert "explain: 100% explained 4 examples" in captured.err
    assert main(["explain", "--model", "linear", "--examples", "0-2,7", "--background", "20", "--seed", "3"]) == 0
    assert "4 examples read from the result store" in capsys.readouterr().out


def test_json_to_stdout_only(loupe_home, tmp_path, capsys):
    register_linear(tmp_path)
    assert main(["explain", "--model", "linear", "--examples", "4", "--json", "-"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["examples"][0]["index"] == 4 and np.isfinite(payload["examples"][0]["additivity_error"])


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--target", "3"], "error: target class 3 is out of range for model 'linear'; valid classes are 0-0"),
        (["--examples", "x"], "error: examples 'x' must be integers or ranges like 0-63,70"),
        (
            ["--background", "999"],
            "error: background 999 is larger than the data (60 rows in {path!r}); use at most 60",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(loupe_home, tmp_path, capsys, argv, expected):
    register_linear(tmp_path)
    assert main(["explain", "--model", "linear", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert err == expected.format(path=str(tmp_path / "linear.npz"))
