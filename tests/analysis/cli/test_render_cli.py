"""``python -m analysis render``: the JSON documented in docs/cli.md, resuming, progress, bad input."""

from __future__ import annotations

import json

import pytest

from analysis.cli.main import main
from tests.analysis.microscope.featurevis_support import register_small_cnn

ARGS = [
    "render",
    "--model",
    "small-cnn",
    "--layer",
    "conv2",
    "--units",
    "0-2,5",
    "--steps",
    "16",
    "--batch",
    "4",
    "--seed",
    "2",
]


@pytest.fixture
def record(loupe_home, tmp_path):
    return register_small_cnn(tmp_path, with_data=True)


def run(args, capsys) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_matches_the_documented_format(record, tmp_path, capsys):
    from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples

    code, out, err = run([*ARGS, "--json", str(tmp_path / "render.json")], capsys)
    assert code == 0
    payload = json.loads((tmp_path / "render.json").read_text())
    assert list(payload) == ["model", "revision", "layer", "units", "units_per_minute"]
    assert (payload["model"], payload["revision"], payload["layer"]) == ("small-cnn", record.current.revision, "conv2")
    assert payload["units_per_minute"] > 0
    examples = compute_dataset_examples(DatasetExamplesSpec(model_id="small-cnn", layer="conv2"))
    assert [u["unit"] for u in payload["units"]] == [0, 1, 2, 5]
    for entry in payload["units"]:
        assert list(entry) == [
            "unit",
            "objective",
            "steps",
            "seed",
            "activation",
            "max_dataset_activation",
            "cached",
            "url",
            "notes",
        ]
        assert (entry["objective"], entry["steps"], entry["seed"], entry["cached"]) == ("channel", 16, 2, False)
        assert entry["url"] == f"/microscope?model=small-cnn&layer=conv2&unit={entry['unit']}"
        assert entry["max_dataset_activation"] == pytest.approx(examples.strongest(entry["unit"]))
        assert isinstance(entry["activation"], float)
        assert all(isinstance(note, str) for note in entry["notes"])
    # Units 0-2 and 5 in batches of 4: the render groups 0-3 and 4-7.
    assert "units/minute" in out and "render 100% done" in err and "0 cached, 4 to render in 2 batch(es)" in err


def test_resumes_from_the_cache(record, capsys):
    unit_0 = ["render", "--model", "small-cnn", "--layer", "conv2", "--units", "0", "--steps", "16", "--seed", "2"]
    run([*unit_0, "--batch", "4"], capsys)  # renders (and stores) unit 0's whole render group, units 0-3
    code, out, err = run([*ARGS, "--json", "-"], capsys)
    payload = json.loads(out)
    assert code == 0 and [u["cached"] for u in payload["units"]] == [True, True, True, False]
    assert "3 cached, 1 to render" in err and "units/minute" in err
    code, out, _ = run([*ARGS, "--json", "-"], capsys)
    payload = json.loads(out)
    assert all(u["cached"] for u in payload["units"]) and payload["units_per_minute"] is None


def test_layer_level_objective_has_a_null_unit(record, capsys):
    code, out, _ = run(
        [
            "render",
            "--model",
            "small-cnn",
            "--layer",
            "conv2",
            "--objective",
            "deepdream",
            "--steps",
            "8",
            "--json",
            "-",
        ],
        capsys,
    )
    (entry,) = json.loads(out)["units"]
    assert code == 0 and entry["unit"] is None and entry["max_dataset_activation"] is None
    assert entry["url"] == "/microscope?model=small-cnn&layer=conv2&view=deepdream"  # the layer's deepdream page


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ["--layer", "conv9"],
            "error: unknown layer 'conv9'; layers with units are 'conv1', 'pool1', 'conv2', 'gap' or 'logits'",
        ),
        (["--units", "6-8"], "error: unit 8 is out of range; valid units are 0-7"),
        (
            ["--objective", "dream"],
            "error: unknown objective 'dream'; valid objectives are 'channel', 'neuron', "
            "'negative', 'negative_neuron', 'diversity', 'deepdream', 'direction' or 'caricature'",
        ),
        (["--steps", "0"], "error: steps 0 must be an integer from 1 to 100000"),
        (
            ["--objective", "caricature"],
            "error: objective 'caricature' needs example, the row of the linked data set to exaggerate",
        ),
        (["--example", "3"], "error: example 3 is only used by objective 'caricature', not 'channel'"),
        (["--model", "nope"], "error: unknown model 'nope'; registered models are 'small-cnn'"),
    ],
)
def test_bad_input_exits_2_with_one_line(record, capsys, extra, message):
    code, out, err = run(["render", "--model", "small-cnn", "--layer", "conv2", *extra], capsys)
    assert code == 2 and err.strip() == message and out == ""
