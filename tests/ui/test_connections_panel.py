"""AppTest: the unit page's Connections panel: bad links, a writer's compute button, a viewer's note, a claim."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.ui.app_support import open_app_page


def open_unit(*, writer: bool = True, **params: str) -> AppTest:
    return open_app_page("ui/pages/microscope.py", params, writer=writer)


@pytest.fixture
def tiny_registered(loupe_home, tiny_cnn_path) -> None:
    ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny"))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"layer": "logits", "from": "logits"}, "from 'logits' is the unit's own layer; earlier layers are 'conv' or"),
        ({"layer": "gap", "from": "logits"}, "from 'logits' comes after layer 'gap'; earlier layers are 'conv'"),
        ({"layer": "conv"}, "layer 'conv' is the first layer with units; no earlier layer feeds it"),
        ({"layer": "logits", "from": "nope"}, "from 'nope' is not a layer with units; earlier layers are"),
        ({"layer": "logits", "claim": "1,b"}, "claim unit 'b' is not an integer; units of 'conv' are 0-3"),
        ({"layer": "logits", "claim": "7"}, "claim unit 7 is out of range; units of 'conv' are 0-3"),
        ({"layer": "logits", "conn": "edges"}, "unknown connections method 'edges'; valid methods are"),
    ],
)
def test_bad_connection_links_show_an_error(tiny_registered, params, message):
    at = open_unit(model="tiny", unit="0", **params)
    assert not at.exception, at.exception
    assert [e.value for e in at.error if e.value.startswith(message)], [e.value for e in at.error]
    assert at.title[0].value.startswith("tiny / ")  # the rest of the unit page is there


def test_a_viewer_sees_a_note_and_no_button(tiny_registered):
    at = open_unit(writer=False, model="tiny", layer="logits", unit="1")
    assert not at.exception
    assert not [b for b in at.button if b.key == "conn-compute"]
    assert any("are not computed yet" in i.value for i in at.info)


def test_a_writer_computes_and_the_claim_is_ranked(tiny_registered):
    at = open_unit(model="tiny", layer="logits", unit="1", claim="2")
    assert not at.exception
    at.button(key="conn-compute").click().run()
    assert not at.exception, at.exception
    assert any(m.value.startswith("**Excitatory**") for m in at.markdown)
    claim = [i.value for i in at.info if i.value.startswith("Claim: conv:2 is #")]
    assert claim and "of 4; together" in claim[0]
    assert at.query_params["claim"] in ("2", ["2"])  # the claim stays in the address bar
    viewer = open_unit(writer=False, model="tiny", layer="logits", unit="1")  # now stored: shown to everyone
    assert any(m.value.startswith("**Excitatory**") for m in viewer.markdown)


@pytest.fixture
def branched_registered(loupe_home, tmp_path) -> None:
    """Two branches from the input: 'side' (a conv) never reaches 'deep' (a conv after 'main')."""
    import keras

    inputs = keras.Input((8, 8, 3))
    side = keras.layers.Conv2D(2, 3, name="side")(inputs)
    main = keras.layers.Conv2D(3, 3, name="main")(inputs)
    deep = keras.layers.Conv2D(2, 3, name="deep")(main)
    pooled = [keras.layers.GlobalAveragePooling2D()(t) for t in (side, deep)]
    outputs = keras.layers.Dense(2, activation="softmax", name="out")(keras.layers.Concatenate()(pooled))
    keras.Model(inputs, outputs).save(tmp_path / "branched.keras")
    ModelRegistry().register(RegisterModelSpec(path=tmp_path / "branched.keras", model_id="branched"))


def test_a_from_layer_on_no_path_is_an_error_naming_the_layers_that_feed_it(branched_registered):
    at = open_unit(model="branched", layer="deep", unit="0", **{"from": "side"})
    assert not at.exception and not at.error  # the layer order allows it: the path is checked on computing
    at.button(key="conn-compute").click().run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "from 'side' is not on any path to layer 'deep'; layers with units that feed it are 'main'"
    ]
    assert at.title[0].value.startswith("branched / deep")


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ("-1", "claim unit -1 is out of range; units of 'conv' are 0-3"),
        ("2.5", "claim unit '2.5' is not an integer; units of 'conv' are 0-3"),
        (",", "claim ',' names no unit; give units of 'conv' like 3,17"),
    ],
)
def test_more_bad_claims(tiny_registered, claim, message):
    at = open_unit(model="tiny", layer="logits", unit="0", claim=claim)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [message]


def test_the_page_links_keep_what_they_should(tiny_registered):
    """Switching technique keeps the panel's parameters; a method keeps the claim; another source layer drops it."""
    from urllib.parse import parse_qs

    at = open_unit(model="tiny", layer="logits", unit="1", conn="weights", **{"from": "conv", "claim": "2"})
    assert not at.exception, at.exception
    links = {link.proto.label: parse_qs(link.proto.query_string) for link in at.get("page_link")}
    unit = {"model": ["tiny"], "layer": ["logits"], "unit": ["1"]}
    panel = {"conn": ["weights"], "from": ["conv"], "claim": ["2"]}
    assert links["negative"] == unit | {"view": ["negative"]} | panel  # another technique, same panel
    assert links["weights (shown)"] == unit | panel
    assert links["attribution"] == unit | panel | {"conn": ["attribution"]}  # another method keeps the claim
    assert links["conv (shown)"] == unit | {"conn": ["weights"], "from": ["conv"]}  # a source layer drops it
    assert links["gap"] == unit | {"conn": ["weights"], "from": ["gap"]}
