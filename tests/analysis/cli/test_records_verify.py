"""``records verify``: a stored fairness or privacy record re-runs in a new process and reproduces."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli.main import main
from analysis.cli.record_verify import compare_values
from analysis.hashing import sha256_file
from analysis.records import FieldTolerance, RecordStore
from tests.analysis.fairness.test_fairness_metrics import make_table
from tests.analysis.privacy.privacy_support import make_group, make_logits, save_outputs
from tests.conftest import PROJECT_ROOT


def verify_in_new_process(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LOUPE_HOME": str(home), "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run(
        [sys.executable, "-m", "analysis", "records", "verify", *args],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def fairness_record(loupe_home, tmp_path, capsys) -> tuple[str, Path]:
    path = tmp_path / "preds.csv"
    make_table(600).to_csv(path, index=False)
    args = ["fairness", "--predictions", str(path), "--label", "y", "--score", "p", "--sensitive", "sex,age_band"]
    assert main([*args, "--thresholds", "0.3,0.5", "--bootstrap", "50", "--seed", "3", "--json", "-"]) == 0
    return json.loads(capsys.readouterr().out)["record_id"], path


@pytest.fixture
def privacy_record(loupe_home, tmp_path, capsys) -> tuple[str, Path, Path]:
    m_logits, m_labels = make_logits(200, classes=3, margin=3.0, seed=0)
    n_logits, n_labels = make_logits(200, classes=3, margin=1.0, seed=1)
    members = save_outputs(tmp_path / "m.npz", m_logits, m_labels, meta_group=make_group(200, seed=2))
    nonmembers = save_outputs(tmp_path / "n.npz", n_logits, n_labels, meta_group=make_group(200, seed=3))
    code = main(
        [
            *("privacy", "--members-outputs", str(members), "--nonmembers-outputs", str(nonmembers)),
            *("--attacks", "threshold,lr", "--slices", "class,column:group", "--seed", "2", "--workers", "1"),
            *("--json", "-"),
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)["record_id"], members, nonmembers


def test_a_fairness_record_reproduces_in_a_new_process(loupe_home, fairness_record, tmp_path):
    record_id, path = fairness_record
    moved = tmp_path / "elsewhere.csv"
    path.rename(moved)  # not where the run read it: given by its hash
    done = verify_in_new_process(loupe_home, record_id, "--file", f"{sha256_file(moved)}={moved}")
    assert (done.returncode, done.stdout.splitlines()[0]) == (0, "reproduced"), done.stderr


def test_a_privacy_record_reproduces_in_a_new_process(loupe_home, privacy_record, tmp_path):
    record_id, _, _ = privacy_record
    out = tmp_path / "verify.json"
    done = verify_in_new_process(loupe_home, record_id, "--json", str(out))  # files found where the record saw them
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(out.read_text())["reproduced"] is True


def test_changed_numbers_show_both_values_and_exit_3(loupe_home, fairness_record, capsys):
    record_id, _ = fairness_record
    store = RecordStore()
    body = store.get(record_id).to_dict()
    body["result"]["overall"][0]["metrics"]["accuracy"]["value"] = 0.123
    connection = sqlite3.connect(store.database)
    with connection:
        connection.execute("UPDATE records SET body=? WHERE record_id=?", (json.dumps(body), record_id))
    connection.close()
    assert main(["records", "verify", record_id]) == 3
    out = capsys.readouterr().out
    assert "differs: 1 field" in out
    assert "result.overall.0.metrics.accuracy.value: recorded 0.123, re-run 0." in out


def test_a_missing_fairness_table_says_where_it_was_last_seen(loupe_home, fairness_record, capsys):
    record_id, path = fairness_record
    path.unlink()
    assert main(["records", "verify", record_id]) == 2
    assert f"is missing (last seen at {path.resolve()})" in capsys.readouterr().err


def test_a_missing_file_names_its_hash_and_where_it_was_last_seen(loupe_home, privacy_record, capsys):
    record_id, members, _ = privacy_record
    digest = sha256_file(members)
    members.unlink()
    assert main(["records", "verify", record_id]) == 2
    err = capsys.readouterr().err
    assert f"input 'members' (sha256 {digest}) is missing (last seen at {members.resolve()})" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fairness-0000000000000000"], "no stored record 'fairness-0000000000000000'"),
        (["x", "--file", "abc=/tmp/x"], "--file 'abc=/tmp/x' must be HASH=PATH"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(loupe_home, args, message, capsys):
    assert main(["records", "verify", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_file_with_other_content_is_refused(loupe_home, fairness_record, tmp_path, capsys):
    record_id, path = fairness_record
    other = tmp_path / "other.csv"
    other.write_text("y,p,sex,age_band\n")
    digest = sha256_file(path)
    assert main(["records", "verify", record_id, "--file", f"{digest}={other}"]) == 2
    assert f"that file's sha256 is {sha256_file(other)}" in capsys.readouterr().err


def test_a_field_only_the_rerun_has_is_new_not_a_difference(loupe_home, fairness_record, capsys):
    """A record written before its analysis grew a field reproduces; the new field is named."""
    record_id, _ = fairness_record
    store = RecordStore()
    body = store.get(record_id).to_dict()
    del body["result"]["too_small"]
    connection = sqlite3.connect(store.database)
    with connection:
        connection.execute("UPDATE records SET body=? WHERE record_id=?", (json.dumps(body), record_id))
    connection.close()
    assert main(["records", "verify", record_id]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "reproduced"
    assert lines[1].startswith("1 field of the re-run is not in the record") and lines[1].endswith(": result.too_small")


def test_tolerances_apply_only_to_their_fields():
    tolerances = (FieldTolerance(pattern="result.a.*", absolute=1e-6),)
    recorded = {"a": [0.5, 0.25], "b": 0.5, "n": 3}
    within = {"a": [0.5 + 5e-7, 0.25], "b": 0.5, "n": 3}
    assert list(compare_values("result", recorded, within, tolerances)) == []
    outside = {"a": [0.5, 0.25], "b": 0.5 + 5e-7, "n": 4, "c": 1}
    found = list(compare_values("result", recorded, outside, tolerances))
    assert [(d.field, d.new) for d in found] == [("result.b", False), ("result.c", True), ("result.n", False)]
