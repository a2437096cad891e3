"""``python -m analysis``: JSON output, exit codes and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from analysis.cli.main import main
from tests.conftest import PROJECT_ROOT


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_models_list_empty(loupe_home, capsys):
    code, out, _ = run(capsys, "models", "list", "--json", "-")
    assert code == 0 and json.loads(out) == {"models": []}


def test_add_show_list(loupe_home, capsys, tiny_cnn_path, tiny_dataset_path, tmp_path):
    code, out, _ = run(
        capsys, "models", "add", str(tiny_cnn_path), "--id", "tiny", "--data", str(tiny_dataset_path), "--json", "-"
    )
    assert code == 0
    added = json.loads(out)
    assert added["id"] == "tiny" and added["format"] == "keras" and len(added["revision"]) == 64
    code, out, _ = run(capsys, "models", "list", "--json", str(tmp_path / "models.json"))
    assert code == 0 and "tiny" in out  # human text on stdout, JSON in the file
    listed = json.loads((tmp_path / "models.json").read_text())["models"]
    assert [m["id"] for m in listed] == ["tiny"]
    assert listed[0]["layers"][0] == {"name": "conv", "kind": "Conv2D", "output_shape": [6, 6, 4], "units": 4}
    assert listed[0]["input_shape"] == [8, 8, 3]
    assert listed[0]["datasets"][0]["role"] == "data"
    code, out, _ = run(capsys, "models", "show", "tiny")
    assert code == 0 and "conv" in out and "revision" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["models", "show", "nope"], "error: unknown model 'nope'; registered models are (none)\n"),
        (
            ["models", "add", "/no/such/file.keras", "--id", "x"],
            "error: model path '/no/such/file.keras' does not exist\n",
        ),
        (["models", "add", "/tmp", "--id", "Bad Id"], "error: model id 'Bad Id' is not valid"),
        (["models", "add", "/tmp", "--id", "x", "--input-range", "5"], "error: range '5' must be LO,HI, e.g. 0,255\n"),
        (["records", "show", "privacy-000000000000"], "error: no stored record 'privacy-000000000000'"),
    ],
)
def test_bad_input_exits_2_with_one_line(loupe_home, capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith(message)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert out == ""


def test_module_entry_point_help():
    result = subprocess.run(
        [sys.executable, "-m", "analysis", "models", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0
    for verb in ("list", "add", "show", "build-demo"):
        assert verb in result.stdout
