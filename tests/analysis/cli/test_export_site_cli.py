"""``python -m analysis export-site``: the JSON summary, incremental re-export, exit codes on bad input.

The model is registered without a data set and nothing is rendered: every unit is published as a
placeholder and listed as pending (the documented rule), which needs no TensorFlow work beyond saving it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.cli.main import EXIT_BAD_INPUT, main
from tests.analysis.microscope.featurevis_support import register_small_cnn


@pytest.fixture
def record(loupe_home: Path, tmp_path: Path):
    return register_small_cnn(tmp_path, "small-cnn", size=16)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_summary_on_stdout_and_a_second_run_writes_nothing(record, tmp_path: Path, capsys) -> None:
    out = tmp_path / "site"
    args = ["export-site", "--model", "small-cnn", "--out", str(out), "--layers", "conv1,conv2", "--json", "-"]
    code, stdout, stderr = run(args, capsys)
    assert code == 0
    payload = json.loads(stdout)
    revision = record.current.revision
    assert (payload["model"], payload["revision"], payload["layers"]) == ("small-cnn", revision, ["conv1", "conv2"])
    assert payload["index"] == f"models/small-cnn/{revision[:12]}/index.html" and (out / payload["index"]).is_file()
    assert payload["units"] == 16 and payload["pending"] == {"conv1": list(range(8)), "conv2": list(range(8))}
    assert payload["examples_missing"] == {}  # no data set linked: nothing to miss
    on_disk = [p for p in out.rglob("*") if p.is_file()]
    assert payload["files"] == len(on_disk) and payload["bytes"] == sum(p.stat().st_size for p in on_disk)
    assert payload["written"] == len(on_disk) - 1 and payload["manifest_written"] and payload["removed"] == 0
    assert "16 units not rendered yet (placeholders)" in stderr
    code, stdout, _ = run(args, capsys)
    again = json.loads(stdout)
    assert (code, again["written"], again["unchanged"], again["manifest_written"]) == (0, 0, payload["written"], False)


def test_human_summary_without_json(record, tmp_path: Path, capsys) -> None:
    code, stdout, _ = run(
        ["export-site", "--model", "small-cnn", "--out", str(tmp_path / "s"), "--layers", "conv2"], capsys
    )
    assert code == 0 and "small-cnn revision" in stdout and "files written" in stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "nope"], "error: unknown model 'nope'; registered models are 'small-cnn'"),
        (["--model", "small-cnn", "--layers", "conv1,dense9"], "error: unknown layer 'dense9'"),
        (["--model", "small-cnn", "--revision", "0000aaaa"], "error: model 'small-cnn' has no revision '0000aaaa'"),
        (["--model", "small-cnn", "--require-complete"], "error: model 'small-cnn' revision"),
        (["--model", "small-cnn", "--steps", "0"], "error: steps 0 must be an integer from 1 to"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(record, tmp_path: Path, capsys, extra: list[str], message: str) -> None:
    code, stdout, stderr = run(["export-site", "--out", str(tmp_path / "site"), *extra], capsys)
    assert code == EXIT_BAD_INPUT and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1


def test_a_foreign_folder_needs_force(record, tmp_path: Path, capsys) -> None:
    out = tmp_path / "notes"
    out.mkdir()
    (out / "todo.txt").write_text("keep me")
    args = ["export-site", "--model", "small-cnn", "--out", str(out), "--layers", "conv1"]
    code, _, stderr = run(args, capsys)
    assert code == EXIT_BAD_INPUT and "holds files but no Loupe site" in stderr
    code, _, _ = run([*args, "--force"], capsys)
    assert code == 0 and (out / "todo.txt").read_text() == "keep me" and (out / "manifest.json").is_file()
