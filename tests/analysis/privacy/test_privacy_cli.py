"""``python -m analysis privacy``: JSON fields, records, HTML report, gates and exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from analysis.cli.main import main
from analysis.hashing import sha256_file
from analysis.privacy import audit_json, load_audit
from analysis.records import RecordStore
from tests.analysis.privacy.privacy_support import make_group, make_logits, save_outputs


@pytest.fixture
def outputs(tmp_path: Path) -> tuple[Path, Path]:
    m_logits, m_labels = make_logits(400, classes=3, margin=3.0, seed=0)
    n_logits, n_labels = make_logits(400, classes=3, margin=1.0, seed=1)
    return (
        save_outputs(tmp_path / "m.npz", m_logits, m_labels, meta_group=make_group(400, seed=2)),
        save_outputs(tmp_path / "n.npz", n_logits, n_labels, meta_group=make_group(400, seed=3)),
    )


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["privacy", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_audit_writes_documented_json_html_scores_and_a_record(loupe_home, tmp_path, outputs, capsys):
    code, out, err = run(
        capsys,
        "--members-outputs",
        str(outputs[0]),
        "--nonmembers-outputs",
        str(outputs[1]),
        "--slices",
        "class,column:group",
        "--seed",
        "5",
        "--json",
        str(tmp_path / "a.json"),
        "--html",
        str(tmp_path / "a.html"),
        "--scores",
        str(tmp_path / "s.npz"),
    )
    assert code == 0, err
    payload = json.loads((tmp_path / "a.json").read_text())
    assert re.fullmatch(r"privacy-[0-9a-f]{16}", payload["record_id"])  # content-addressed (docs/records.md)
    assert (payload["model"], payload["revision"], payload["seed"]) == (None, None, 5)
    assert (payload["n_members"], payload["n_nonmembers"]) == (400, 400)
    assert payload["train_accuracy"] > payload["test_accuracy"]
    row = payload["results"][0]
    assert set(row) >= {
        "slice",
        "attack",
        "n_members",
        "n_nonmembers",
        "auc",
        "attacker_advantage",
        "ppv",
        "tpr_at_fpr",
        "epsilon_lower_bound",
        "notes",
    }
    assert row["slice"] == {"kind": "entire_dataset"}
    assert set(row["tpr_at_fpr"]) == {"0.001", "0.01"} and row["tpr_at_fpr"]["0.001"] is None
    slices = {json.dumps(r["slice"], sort_keys=True) for r in payload["results"]}
    assert '{"kind": "class", "value": 2}' in slices
    assert '{"column": "group", "kind": "column", "value": "B"}' in slices
    assert {r["attack"] for r in payload["results"]} == {"threshold", "entropy", "lr"}
    summary = payload["summary"]
    assert summary["max_auc"] == max(r["auc"] for r in payload["results"])
    assert summary["worst_slice"]["auc"] == summary["max_auc"]
    assert summary["verdict"]["level"] == "high"
    assert payload["inputs"]["members"] == sha256_file(outputs[0])
    assert payload["versions"]["tensorflow-empirical-privacy"] == "0.1.0"
    assert payload["parameters"]["slices"] == ["class", "column:group"]
    assert "record " + payload["record_id"] in out
    # the record reopens to the same result, and exports to the same JSON
    record, result = load_audit(payload["record_id"], RecordStore(loupe_home))
    assert result.to_dict() == {k: payload[k] for k in result.to_dict()}
    assert audit_json(record) == payload
    html = (tmp_path / "a.html").read_text()
    assert "<svg" in html and payload["record_id"] in html and "Most exposed members" in html
    assert "<img" not in html  # precomputed outputs carry no inputs to show
    assert not re.search(r"(src|href)=['\"]?https?:", html) and "<script" not in html  # self-contained
    scores = np.load(tmp_path / "s.npz")
    assert scores["members"].shape == (400,) and scores["nonmembers"].shape == (400,)


def test_json_to_stdout_is_only_json(loupe_home, outputs, capsys):
    code, out, _ = run(
        capsys,
        "--members-outputs",
        str(outputs[0]),
        "--nonmembers-outputs",
        str(outputs[1]),
        "--attacks",
        "threshold",
        "--slices",
        "none",
        "--json",
        "-",
    )
    assert code == 0
    assert [r["slice"] for r in json.loads(out)["results"]] == [{"kind": "entire_dataset"}]


def test_gate_exceeded_exits_3_and_keeps_the_evidence(loupe_home, outputs, capsys):
    code, _, err = run(
        capsys,
        "--members-outputs",
        str(outputs[0]),
        "--nonmembers-outputs",
        str(outputs[1]),
        "--attacks",
        "threshold",
        "--fail-above-auc",
        "0.6",
        "--fail-above-tpr-at-1pct",
        "0.02",
    )
    assert code == 3
    assert re.search(r"gate failed: max AUC 0\.\d{4} > 0\.6\n", err)
    assert re.search(r"gate failed: max TPR at 1% FPR 0\.\d{4} > 0\.02\n", err)
    assert len(RecordStore(loupe_home).list(kind="privacy")) == 1


def test_gate_under_threshold_exits_0(loupe_home, outputs, capsys):
    code, _, _ = run(
        capsys,
        "--members-outputs",
        str(outputs[0]),
        "--nonmembers-outputs",
        str(outputs[1]),
        "--attacks",
        "threshold",
        "--fail-above-auc",
        "0.99",
    )
    assert code == 0


def test_tpr_gate_that_cannot_be_evaluated_is_bad_input(loupe_home, tmp_path, capsys):
    small = save_outputs(tmp_path / "s.npz", *make_logits(50, classes=2, margin=1.0, seed=0))
    code, _, err = run(
        capsys,
        "--members-outputs",
        str(small),
        "--nonmembers-outputs",
        str(small),
        "--attacks",
        "threshold",
        "--fail-above-tpr-at-1pct",
        "0.1",
    )
    assert code == 2
    assert err.splitlines()[-1] == (  # after the progress lines
        "error: --fail-above-tpr-at-1pct cannot be checked: no slice has the 100 non-members TPR at 1% FPR needs"
    )
    assert RecordStore(loupe_home).list() == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "give --model ID (optionally with --members M.npz --nonmembers N.npz), or --members-outputs A.npz "
            "--nonmembers-outputs B.npz",
        ),
        (
            ["--model", "x", "--members-outputs", "a.npz"],
            "give either --model or --members-outputs/--nonmembers-outputs, not both",
        ),
        (
            ["--members-outputs", "a.npz", "--nonmembers-outputs", "b.npz", "--members", "m.npz"],
            "--members, --nonmembers and --rev go with --model; precomputed outputs take --members-outputs and "
            "--nonmembers-outputs",
        ),
        (
            ["--model", "x", "--members", "m.npz"],
            "give both a members file and a non-members file, or neither (to use the linked sets)",
        ),
        (["--model", "x", "--fail-above-auc", "2"], "--fail-above-auc 2.0 must be between 0 and 1"),
        (["--model", "nope"], "unknown model 'nope'; registered models are (none)"),
    ],
)
def test_bad_arguments(loupe_home, capsys, args, message):
    code, _, err = run(capsys, *args)
    assert (code, err) == (2, f"error: {message}\n")
