"""Hostile input to every CLI command: exit 2, exactly one line on stderr naming the bad value, no traceback.

One Loupe home (built once per module) holds ``tiny`` (an 8x8x3 CNN with a 3-class data set),
``bare`` (the same model, no data) and ``credit`` (a sigmoid over 3 features, binary labels,
a split and ``meta_sex``); ``files`` holds the bad inputs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.cli.main import main
from tests.hostile_home import build_hostile_home


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-bad-input")
    build_hostile_home(root)

    files = root / "files"
    files.mkdir()
    (files / "random.npz").write_bytes(bytes(range(256)) * 2)
    np.save(files / "array.npy", np.zeros(3))
    (files / "array.npy").rename(files / "array.npz")
    (files / "text.parquet").write_text("hello\n")
    (files / "nosex.csv").write_text("y,p\n1,0.3\n0,0.8\n")
    (files / "binary.yaml").write_bytes(b"\xe9\xc9P\xff")
    (files / "bad.yaml").write_text("model_details: [1, 2\n")
    (files / "fields.yaml").write_text("model_details:\n  overview: A tiny model.\n")
    (files / "folder").mkdir()
    (files / "plain").write_text("a file, not a folder\n")
    return root


@pytest.fixture
def files(shared_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LOUPE_HOME", str(shared_home / "home"))
    monkeypatch.delenv("LOUPE_CACHE_DIR", raising=False)
    return shared_home / "files"


def run_bad(capsys, argv: list[str]) -> str:
    """Run the CLI; assert exit 2, nothing on stdout and one stderr line; return that line."""
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse errors exit from inside parse_args
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2, (code, captured.err)
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, captured.err
    return captured.err.rstrip("\n")


# (argv with {F} for the bad-files folder, the exact stderr line; {R} is the folder's parent)
CASES = [
    # models
    (
        ["models", "show", "<script>"],
        "error: unknown model '<script>'; registered models are 'bare', 'credit' or 'tiny'",
    ),
    (
        ["models", "add", "{F}/random.npz", "--id", "x"],
        "error: '{F}/random.npz' is not a model Loupe can read (it starts with bytes b'\\x00\\x01\\x02\\x03\\x04\\x05"
        "\\x06\\x07'); valid models are a .keras file (zip), a .h5 file (HDF5), a frozen GraphDef .pb file or a "
        "SavedModel folder",
    ),
    (
        ["models", "add", "{F}/../tiny.keras", "--id", "y", "--data", "{F}/random.npz"],
        "error: data file '{F}/random.npz' is not a valid .npz file (it starts with bytes b'\\x00\\x01\\x02\\x03\\x04"
        "\\x05\\x06\\x07', not a zip archive); write it with numpy.savez(path, x=..., y=...)",
    ),
    (
        ["models", "add", "{F}/../tiny.keras", "--id", "y", "--data", "{F}/array.npz"],
        "error: data file '{F}/array.npz' is not a valid .npz file (it starts with bytes b'\\x93NUMPY\\x01\\x00', "
        "not a zip archive); write it with numpy.savez(path, x=..., y=...)",
    ),
    (
        ["models", "add", "{F}/../tiny.keras", "--id", "y", "--input-range", "5,1"],
        "error: range '5,1' must have LO < HI",
    ),
    (
        ["models", "list", "--json", "{F}/folder"],
        "error: argument --json: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis models list --help')",
    ),
    (
        ["models", "list", "--json", "{F}/plain/out.json"],
        "error: argument --json: cannot write '{F}/plain/out.json': '{F}/plain' is not a folder "
        "(see 'python -m analysis models list --help')",
    ),
    (
        ["models", "frobnicate"],
        "error: argument VERB: invalid choice: 'frobnicate' (choose from 'list', 'add', "
        "'add-application', 'show', 'build-demo')"
        " (see 'python -m analysis models --help')",
    ),
    # records
    (["records", "show", ""], "error: no stored record ''; list them with 'python -m analysis records list'"),
    (
        ["records", "show", "x", "--json", "{F}/folder"],
        "error: argument --json: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis records show --help')",
    ),
    # render
    (
        ["render", "--model", "tiny", "--layer", "conv", "--units", "5-2"],
        "error: units '5-2': range '5-2' runs backwards; write 2-5",
    ),
    (
        ["render", "--model", "tiny", "--layer", "conv", "--units", "0-99999999999"],
        "error: unit 99999999999 is out of range; valid units are 0-3",
    ),
    (
        ["render", "--model", "tiny", "--layer", "conv", "--units", ","],
        "error: units ',' name no unit; give integers or ranges like 0-63,70",
    ),
    (
        ["render", "--model", "tiny", "--layer", "conv", "--units", "1e9"],
        "error: units '1e9' must be integers or ranges like 0-63,70",
    ),
    (
        ["render", "--model", "tiny", "--layer", "conv", "--seed", "x"],
        "error: argument --seed: invalid int value: 'x' (see 'python -m analysis render --help')",
    ),
    (
        ["render", "--model", "tiny", "--layer", "nope"],
        "error: unknown layer 'nope'; layers with units are 'conv', 'gap' or 'logits'",
    ),
    (
        ["render", "--model", "tiny", "--layer", "conv", "--json", "{F}/folder"],
        "error: argument --json: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis render --help')",
    ),
    # explain
    (
        ["explain", "--model", "tiny", "--examples", "5-2"],
        "error: examples '5-2': range '5-2' runs backwards; write 2-5",
    ),
    (
        ["explain", "--model", "tiny", "--examples", ""],
        "error: examples '' name no example; give integers or ranges like 0-63,70",
    ),
    (
        ["explain", "--model", "tiny", "--examples", "0-2147483645"],
        "error: examples '0-2147483645' name 2147483646 examples; at most 20000 at once",
    ),
    (
        ["explain", "--model", "tiny", "--examples", "99999999"],
        "error: example 99999999 is out of range; the data set '{R}/tiny.npz' has 12 rows (valid examples are 0-11)",
    ),
    (
        ["explain", "--model", "bare"],
        "error: model 'bare' has no linked data set; link one with 'python -m analysis models add MODEL --id bare "
        "--data DATA.npz' (or pass --data NPZ)",
    ),
    (
        ["explain", "--model", "tiny", "--data", "{F}/text.parquet"],  # tables are data sets too (issue 19)
        "error: table '{F}/text.parquet' is not a readable parquet file (Parquet file size is 6 bytes, smaller than "
        "the minimum file footer (8 bytes))",
    ),
    (
        ["explain", "--model", "tiny", "--json", "{F}/plain/x.json"],
        "error: argument --json: cannot write '{F}/plain/x.json': '{F}/plain' is not a folder "
        "(see 'python -m analysis explain --help')",
    ),
    # fairness
    (
        ["fairness", "--model", "credit", "--sensitive", "sex", "--bootstrap", "x"],
        "error: argument --bootstrap: invalid int value: 'x' (see 'python -m analysis fairness --help')",
    ),
    (
        ["fairness", "--model", "credit", "--sensitive", "sex", "--bootstrap", "-5"],
        "error: bootstrap resamples -5 must be an integer in [0, 20000]",
    ),
    (
        ["fairness", "--model", "credit", "--sensitive", "sex", "--thresholds", "abc"],
        "error: thresholds 'abc' must be numbers separated by commas, e.g. 0.3,0.5,0.7",
    ),
    (
        ["fairness", "--model", "credit", "--sensitive", "sex", "--seed", "-1"],
        "error: seed -1 must be a non-negative integer",
    ),
    (
        ["fairness", "--model", "credit", "--sensitive", "sex", "--json", "{F}/folder"],
        "error: argument --json: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis fairness --help')",
    ),
    (
        ["fairness", "--sensitive", "sex"],
        "error: one of the arguments --model --predictions is required (see 'python -m analysis fairness --help')",
    ),
    # privacy
    (
        ["privacy", "--model", "tiny", "--members", "{F}/random.npz", "--nonmembers", "{F}/random.npz"],
        "error: data file '{F}/random.npz' is not a valid .npz file (it starts with bytes b'\\x00\\x01\\x02\\x03\\x04"
        "\\x05\\x06\\x07', not a zip archive); write it with numpy.savez(path, x=..., y=...)",
    ),
    (
        ["privacy", "--members-outputs", "{F}/array.npz", "--nonmembers-outputs", "{F}/array.npz"],
        "error: data file '{F}/array.npz' is not a valid .npz file (it starts with bytes b'\\x93NUMPY\\x01\\x00', "
        "not a zip archive); write it with numpy.savez(path, x=..., y=...)",
    ),
    (
        ["privacy", "--model", "tiny", "--fail-above-auc", "abc"],
        "error: argument --fail-above-auc: invalid float value: 'abc' (see 'python -m analysis privacy --help')",
    ),
    (["privacy", "--model", "tiny", "--seed", "-1"], "error: seed -1 must be an integer from 0 to 2**32 - 1"),
    (
        ["privacy", "--model", "tiny", "--html", "{F}/folder"],
        "error: argument --html: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis privacy --help')",
    ),
    (
        ["privacy", "--model", "tiny", "--scores", "{F}/plain/s.npz"],
        "error: argument --scores: cannot write '{F}/plain/s.npz': '{F}/plain' is not a folder "
        "(see 'python -m analysis privacy --help')",
    ),
    (
        ["privacy", "--model", "tiny", "--json", "{F}/folder"],
        "error: argument --json: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis privacy --help')",
    ),
    # card
    (
        ["card", "--model", "tiny", "--format", "md", "--out", "-", "--fields", "{F}/binary.yaml"],
        "error: fields file '{F}/binary.yaml' is not UTF-8 text (byte 0xe9 at offset 0); give a YAML file",
    ),
    (
        ["card", "--model", "tiny", "--format", "md", "--out", "-", "--fields", "{F}/bad.yaml"],
        "error: fields file '{F}/bad.yaml' is not valid YAML (expected ',' or ']', but got '<stream end>' at line 2, "
        "column 1)",
    ),
    (
        ["card", "--model", "tiny", "--format", "md", "--out", "{F}/folder", "--fields", "{F}/fields.yaml"],
        "error: argument --out: '{F}/folder' is a folder; give a file path (e.g. inside it) "
        "(see 'python -m analysis card --help')",
    ),
    (
        ["card", "--model", "tiny", "--format", "pdf", "--out", "-"],
        "error: argument --format: invalid choice: 'pdf' (choose from 'json', 'html', 'md', 'hf') "
        "(see 'python -m analysis card --help')",
    ),
    (
        [
            "card",
            "--model",
            "tiny",
            "--format",
            "md",
            "--out",
            "-",
            "--records",
            "garbage",
            "--fields",
            "{F}/fields.yaml",
        ],
        "error: no stored record 'garbage'; list them with 'python -m analysis records list'",
    ),
]


@pytest.mark.parametrize(("argv", "message"), CASES, ids=[" ".join(c[0])[:60] for c in CASES])
def test_bad_input_exits_2_with_one_line(files, capsys, argv, message):
    line = run_bad(capsys, [arg.replace("{F}", str(files)) for arg in argv])
    assert line == message.replace("{F}", str(files)).replace("{R}", str(files.parent))


def test_csv_missing_a_column_names_it_after_the_progress_line(files, capsys):
    code = main(
        [
            "fairness",
            "--predictions",
            str(files / "nosex.csv"),
            "--label",
            "y",
            "--score",
            "p",
            "--sensitive",
            "sex",
            "--bootstrap",
            "0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert err.splitlines()[-1] == "error: column 'sex' is not in the predictions file; its columns are 'y' or 'p'"


def test_unwritable_json_after_the_work_is_an_input_error_and_leaves_no_temp_file(files, capsys, monkeypatch):
    """A path that turns bad after the arguments were checked: one line, no temporary file left behind."""
    import os

    from analysis.cli import output

    target = files / "late" / "models.json"
    real_replace = os.replace

    def refuse(source, destination):
        if str(destination) == str(target):
            raise PermissionError(13, "Permission denied")
        return real_replace(source, destination)

    monkeypatch.setattr(output.os, "replace", refuse)
    line = run_bad(capsys, ["models", "list", "--json", str(target)])
    assert line == f"error: cannot write {str(target)!r}: Permission denied"
    assert list((files / "late").iterdir()) == []


def test_fairness_unknown_model_prints_only_the_error(loupe_home, capsys):
    from analysis.cli.main import main

    code = main(["fairness", "--model", "nope", "--sensitive", "sex"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err == "error: unknown model 'nope'; registered models are (none)\n"


def test_privacy_unknown_slice_column_fails_before_the_model_runs(files, capsys):
    line = run_bad(capsys, ["privacy", "--model", "tiny", "--slices", "column:nope"])
    assert line == "error: slice column 'nope' is missing from the members; its metadata columns are 'sex'"


def test_records_list_of_an_unknown_kind_names_the_kinds(files, capsys):
    line = run_bad(capsys, ["records", "list", "--kind", "bogus"])
    assert line == "error: unknown record kind 'bogus'; kinds are 'privacy', 'fairness' or 'performance'"
