"""Hostile deep links on every page of app.py: a readable ``st.error`` naming the bad value, never an exception.

One Loupe home (built once per module) holds ``tiny`` (8x8x3 CNN, 3-class data with a split and
``meta_sex``), ``bare`` (the same model, no data), ``credit`` (sigmoid over 3 features, binary
labels, split, ``meta_sex``), ``saved`` (the tiny CNN exported as a TF SavedModel: no layers) and a
fairness record of ``credit``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.hostile_home import build_hostile_home
from tests.ui.app_support import open_app_page

MODELS = "'bare', 'credit', 'saved' or 'tiny'"


@pytest.fixture(scope="module")
def shared_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("hostile-links")
    record_id = build_hostile_home(root, with_savedmodel=True)
    (root / "nosex.csv").write_text("y,p\n1,0.3\n0,0.8\n")
    (root / "text.parquet").write_text("hello\n")
    return root, record_id


@pytest.fixture
def home(shared_home, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, str]:
    root, _ = shared_home
    monkeypatch.setenv("LOUPE_HOME", str(root / "home"))
    monkeypatch.setenv("LOUPE_DATA_ROOTS", str(root))  # the operator allows the fixture folder
    monkeypatch.delenv("LOUPE_CACHE_DIR", raising=False)
    return shared_home


def open_page(page: str, params: dict[str, str | list[str]]) -> AppTest:
    return open_app_page(f"ui/pages/{page}.py", params)


# (page, query parameters with {R} for the fixture folder and {FR} for the fairness record id, exact error;
# messages name files, never the server's folders: {R}/ is left out of them)
CASES = [
    ("home", {"model": "nope", "x": "<script>alert(1)</script>"}, None),
    ("models", {"model": ""}, f"unknown model ''; registered models are {MODELS}"),
    (
        "models",
        {"model": "<script>alert(1)</script>"},
        f"unknown model '<script>alert(1)</script>'; registered models are {MODELS}",
    ),
    ("models", {"model": "saved"}, None),
    (
        "microscope",
        {"model": "saved", "layer": "conv"},
        "model 'saved' has no layer 'conv'; layers with units are (none)",
    ),
    (
        "microscope",
        {"model": "tiny", "layer": "conv", "unit": "-1"},
        "unit -1 is out of range; layer 'conv' has units 0-3",
    ),
    (
        "microscope",
        {"model": "tiny", "layer": "conv", "unit": "1e9"},
        "unit '1e9' is not an integer; layer 'conv' has units 0-3",
    ),
    (
        "microscope",
        {"model": "tiny", "layer": "conv", "unit": "99999999999999999999999"},
        "unit 99999999999999999999999 is out of range; layer 'conv' has units 0-3",
    ),
    (
        "microscope",
        {"model": "tiny", "layer": "conv", "unit": ""},
        "unit '' is not an integer; layer 'conv' has units 0-3",
    ),
    (
        "microscope",
        {"model": "tiny", "layer": "<script>", "unit": "1"},
        "model 'tiny' has no layer '<script>'; layers with units are 'conv', 'gap' or 'logits'",
    ),
    (
        "microscope",
        {"model": ["tiny", "nope"], "layer": "conv"},
        f"unknown model 'nope'; registered models are {MODELS}",
    ),  # a repeated parameter: the last value counts
    ("privacy", {"audit": "{FR}"}, "record '{FR}' is a fairness record, not a privacy audit"),
    (
        "privacy",
        {"audit": "<script>alert(1)</script>"},
        "no stored record '<script>alert(1)</script>'; list them with 'python -m analysis records list'",
    ),
    ("privacy", {"model": ""}, f"unknown model ''; registered models are {MODELS}"),
    ("privacy", {"model": "bare"}, None),  # the form opens; running it is tested below
    ("fairness", {"model": "bare"}, "model 'bare' has no linked DATA dataset with meta_<column> arrays"),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "bootstrap": "-5"},
        "bootstrap -5 in the link is out of range; valid values are 0-20000",
    ),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "bootstrap": "99999999"},
        "bootstrap 99999999 in the link is out of range; valid values are 0-20000",
    ),
    ("fairness", {"model": "credit", "sensitive": "sex", "seed": "x"}, "seed 'x' in the link must be a whole number"),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "seed": "-1"},
        "seed -1 in the link is out of range; valid values are 0-2147483647",
    ),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "min_slice": "0"},
        "min_slice 0 in the link is out of range; valid values are 1-1000000",
    ),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "thresholds": "abc"},
        "thresholds 'abc' must be numbers separated by commas, e.g. 0.3,0.5,0.7",
    ),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "thresholds": "nan"},
        "threshold nan must be a number in [0, 1]",
    ),
    (
        "fairness",
        {"model": "credit", "sensitive": "race"},
        "column 'race' is not in the model data '{R}/credit.npz'; its columns are 'sex'",
    ),
    (
        "fairness",
        {"model": "credit", "sensitive": "sex", "baseline": "<script>"},
        "baseline '<script>' must be 'overall' or COLUMN=VALUE[,COLUMN=VALUE], e.g. sex=M",
    ),
    (
        "fairness",
        {"predictions": "{R}/nosex.csv", "label": "y", "score": "p", "sensitive": "sex"},
        "column 'sex' is not in the predictions file; its columns are 'y' or 'p'",
    ),
    (
        "fairness",
        {"predictions": "{R}/text.parquet", "label": "y", "score": "p", "sensitive": "sex"},
        "predictions file '{R}/text.parquet' could not be read as Parquet: Could not open Parquet input source "
        "'<Buffer>': Parquet file size is 6 bytes, smaller than the minimum file footer (8 bytes)",
    ),
    (
        "fairness",
        {"predictions": "/etc/passwd"},
        "'passwd' is not a file Loupe may read: give a path to a regular file (or a SavedModel folder) inside "
        "the folders this server's operator allows (LOUPE_DATA_ROOTS), or upload the file",
    ),
    (
        "explain",
        {"model": "bare"},
        "model 'bare' has no linked data set; link one with 'python -m analysis models "
        "add MODEL --id bare --data DATA.npz' (or pass --data NPZ)",
    ),
    ("explain", {"model": "tiny", "example": "-1"}, "example '-1' must be a row index of the data set (0, 1, 2, ...)"),
    ("explain", {"model": "tiny", "example": "²"}, "example '²' must be a row index of the data set (0, 1, 2, ...)"),
    (
        "explain",
        {"model": "tiny", "example": "99999999"},
        "example 99999999 is out of range; the data set '{R}/tiny.npz' has 12 rows (valid examples are 0-11)",
    ),
    (
        "explain",
        {"model": "tiny", "example": "99999999999999999999999999"},
        "example 99999999999999999999999999 is out of range; valid examples are 0-2147483646",
    ),
    (
        "explain",
        {"model": "tiny", "target": "conv:1e9"},
        "target 'conv:1e9' is not valid; use a class index (e.g. 3), LAYER:UNIT (e.g. conv4:12) or 'predicted'",
    ),
    (
        "explain",
        {"model": "tiny", "rev": "zz"},
        "revision 'zz' is not a hash prefix (4-64 hex digits); revisions of 'tiny' are",
    ),
    (
        "card",
        {"model": "tiny", "records": "garbage"},
        "no stored record 'garbage'; list them with 'python -m analysis records list'",
    ),
    (
        "card",
        {"model": "tiny", "records": "{FR}"},
        "record '{FR}' belongs to model 'credit', not to 'tiny'; a card cites only its own model's records",
    ),
]


@pytest.mark.parametrize(
    ("page", "params", "message"),
    CASES,
    ids=[f"{c[0]}-{'&'.join(f'{k}={v}' for k, v in c[1].items())}"[:70] for c in CASES],
)
def test_hostile_link_shows_one_readable_error(home, page, params, message):
    root, record_id = home

    def fill(text: str) -> str:
        return text.replace("{R}", str(root)).replace("{FR}", record_id)

    def shown(text: str) -> str:
        return text.replace("{R}/", "").replace("{FR}", record_id)

    at = open_page(
        page, {k: [fill(v) for v in value] if isinstance(value, list) else fill(value) for k, value in params.items()}
    )
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    if message is None:
        assert errors == []
    else:
        assert len(errors) == 1, errors
        assert errors[0].startswith(shown(message)), errors[0]


@pytest.mark.parametrize(
    ("model", "members", "message"),
    [
        ("bare", "", "model 'bare' has no linked member and non-member sets and no data set with a train/test split"),
        (
            "tiny",
            "{R}/text.parquet",
            "data file '{R}/text.parquet' is not a valid .npz file (it starts with bytes "
            "b'hello\\n', not a zip archive); write it with numpy.savez(path, x=..., y=...)",
        ),
    ],
)
def test_privacy_form_with_bad_data_shows_one_error(home, model, members, message):
    root, _ = home
    at = open_page("privacy", {"model": model})
    at.text_input[0].input(members.replace("{R}", str(root)))
    at.text_input[1].input(members.replace("{R}", str(root)))
    at.button[0].click().run()
    assert not at.exception, at.exception
    shown = message.replace("{R}/", "")  # messages name the file, never the server's folder
    assert [e.value[: len(shown)] for e in at.error] == [shown]


def test_models_page_refuses_a_corrupt_data_file(home):
    root, _ = home
    (root / "random.npz").write_bytes(bytes(range(256)))
    at = open_page("models", {})
    at.text_input[0].input("new")
    at.text_input[1].input(str(root / "tiny.keras"))
    at.text_input[2].input(str(root / "random.npz"))
    at.button[0].click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "data file 'random.npz' is not a valid .npz file (it starts with bytes "
        "b'\\x00\\x01\\x02\\x03\\x04\\x05\\x06\\x07', not a zip archive); write it with numpy.savez(path, x=..., y=...)"
    ]


def test_card_link_with_empty_record_ids_cites_nothing_like_the_cli(home):
    at = open_page("card", {"model": "tiny", "records": ","})
    assert not at.exception, at.exception
    assert [e.value for e in at.error if "record" in e.value] == []  # (the empty overview is flagged, rightly)
