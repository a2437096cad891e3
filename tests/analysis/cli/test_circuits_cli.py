"""``python -m analysis circuits``: the JSON documented in docs/cli.md, the claim, bad input (exit 2)."""

from __future__ import annotations

import json

import pytest

from analysis.cli.main import main
from tests.analysis.microscope.featurevis_support import register_small_cnn


@pytest.fixture
def record(loupe_home, tmp_path):
    return register_small_cnn(tmp_path, with_data=True, size=16)


def run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_matches_the_documented_format(record, tmp_path, capsys):
    args = ["circuits", "--model", "small-cnn", "--layer", "conv2", "--unit", "3", "--top", "2", "--claim", "5,1"]
    code, out, err = run([*args, "--json", str(tmp_path / "c.json")], capsys)
    assert code == 0, err
    payload = json.loads((tmp_path / "c.json").read_text())
    assert list(payload) == [
        "model",
        "revision",
        "layer",
        "from_layer",
        "method",
        "centre",
        "window",
        "kernel_shape",
        "dataset_sha256",
        "n_examples",
        "seconds",
        "cached",
        "unit",
        "excitatory",
        "inhibitory",
        "claim",
        "url",
    ]
    assert (payload["from_layer"], payload["method"], payload["cached"]) == ("conv1", "weights", False)
    # conv2 is 8x8 after the pool: the centre (4, 4) reaches a 6x6 window of the 16x16 conv1
    assert payload["centre"] == [4, 4] and payload["window"] == {"top": 6, "left": 6, "height": 6, "width": 6}
    assert payload["kernel_shape"] == [6, 6, 8]
    assert len(payload["excitatory"]) <= 2 and len(payload["inhibitory"]) <= 2
    assert all(list(c) == ["unit", "rank", "strength", "value", "sign"] for c in payload["excitatory"])
    assert [c["unit"] for c in payload["claim"]["units"]] == [5, 1] and 0 < payload["claim"]["share"] < 1
    assert payload["url"] == "/microscope?model=small-cnn&layer=conv2&unit=3&conn=weights&from=conv1&claim=5,1"
    code, out, _ = run([*args, "--method", "attribution", "--json", "-"], capsys)
    attribution = json.loads(out)
    assert code == 0 and attribution["method"] == "attribution" and attribution["n_examples"] == 40
    assert attribution["kernel_shape"] == [1, 1, 8] and attribution["window"] is None
    code, out, _ = run([*args, "--json", "-"], capsys)
    assert json.loads(out)["cached"] is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--from", "conv2"], "from 'conv2' is the unit's own layer; earlier layers are 'conv1'"),
        (["--layer", "conv1", "--from", "conv2"], "from 'conv2' comes after layer 'conv1'"),
        (["--unit", "8"], "unit 8 is out of range; valid values are 0-7"),
        (["--claim", "9"], "claim unit 9 is out of range; units of 'conv1' are 0-7"),
        (["--claim", "a"], "claim unit 'a' is not an integer"),
        (["--method", "edges"], "unknown connections method 'edges'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(record, capsys, extra, message):
    code, _out, err = run(["circuits", "--model", "small-cnn", "--layer", "conv2", "--unit", "3", *extra], capsys)
    assert code == 2 and message in err and err.count("\n") == 1
