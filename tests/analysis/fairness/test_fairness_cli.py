"""``python -m analysis fairness``: JSON output, the gap gate, one-line errors."""

from __future__ import annotations

import json

import pytest

from analysis.cli.main import main
from analysis.records import RecordStore
from tests.analysis.fairness.test_fairness_metrics import make_table


@pytest.fixture
def predictions(loupe_home, tmp_path):
    path = tmp_path / "preds.csv"
    make_table(1200).to_csv(path, index=False)
    return path


def test_json_report_and_record(predictions, tmp_path, capsys):
    out = tmp_path / "report.json"
    code = main(
        [
            "fairness",
            "--predictions",
            str(predictions),
            "--label",
            "y",
            "--score",
            "p",
            "--sensitive",
            "sex,age_band",
            "--intersections",
            "sex*age_band",
            "--thresholds",
            "0.3,0.5,0.7",
            "--baseline",
            "sex=M",
            "--bootstrap",
            "200",
            "--seed",
            "4",
            "--min-slice",
            "20",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    report = json.loads(out.read_text())
    assert report["parameters"]["thresholds"] == [0.3, 0.5, 0.7]
    assert report["parameters"]["intersections"] == [["sex", "age_band"]]
    assert report["baseline"] == "sex=M"
    assert {s["threshold"] for s in report["slices"]} == {0.3, 0.5, 0.7}
    record = RecordStore().get(report["record_id"])
    assert record.parameters["seed"] == 4
    assert record.result == {**report, "record_id": None}  # the record's id is its own
    assert "baseline sex=M" in capsys.readouterr().out


def test_json_to_stdout_is_only_json(predictions, capsys):
    code = main(
        [
            "fairness",
            "--predictions",
            str(predictions),
            "--label",
            "y",
            "--score",
            "p",
            "--sensitive",
            "sex",
            "--bootstrap",
            "20",
            "--json",
            "-",
        ]
    )
    assert code == 0
    assert json.loads(capsys.readouterr().out)["slices"]


def test_gap_gate_exits_3(predictions, capsys):
    args = [
        "fairness",
        "--predictions",
        str(predictions),
        "--label",
        "y",
        "--score",
        "p",
        "--sensitive",
        "age_band",
        "--bootstrap",
        "20",
    ]
    assert main([*args, "--fail-on-gap", "selection_rate:0.0001"]) == 3
    assert "GAP: selection_rate of age_band=" in capsys.readouterr().out
    assert main([*args, "--fail-on-gap", "demographic_parity_difference:0.99"]) == 0


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--score", "nope"],
            "error: column 'nope' is not in the predictions file; its columns are 'y', 'p', 'sex' or 'age_band'\n",
        ),
        (
            ["--score", "p", "--thresholds", "0.5,x"],
            "error: thresholds '0.5,x' must be numbers separated by commas, e.g. 0.3,0.5,0.7\n",
        ),
        (
            ["--score", "p", "--fail-on-gap", "tpr"],
            "error: --fail-on-gap 'tpr' must be METRIC:X with X a number, e.g. tpr:0.1\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(predictions, capsys, extra, message):
    code = main(["fairness", "--predictions", str(predictions), "--label", "y", "--sensitive", "sex", *extra])
    assert code == 2
    assert capsys.readouterr().err.splitlines()[-1] + "\n" == message
