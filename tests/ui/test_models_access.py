"""The Models page by role: viewers see models but no form; writers upload, never trust code, confirm replacements."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.conftest import build_tiny_cnn
from tests.ui.app_support import open_app_page
from ui.access import TOKEN_SESSION_KEY


def open_models(*, writer: bool = True, **params: str) -> AppTest:
    return open_app_page("ui/pages/models.py", params, writer=writer)


def upload_and_register(at: AppTest, model_id: str, name: str, content: bytes) -> AppTest:
    at.text_input[0].input(model_id)
    at.get("file_uploader")[0].set_value((name, content, "application/octet-stream"))
    return next(b for b in at.button if b.label == "Register").click().run()


@pytest.fixture
def tiny_bytes(tiny_cnn_path) -> bytes:
    return tiny_cnn_path.read_bytes()


def test_viewer_sees_models_but_no_upload_trust_or_register(loupe_home, tiny_cnn_path):
    ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="tiny"))
    at = open_models(writer=False, model="tiny")
    assert not at.exception
    assert any("tiny · revision" in h.value for h in at.subheader)
    assert not at.get("file_uploader")
    assert not at.checkbox
    assert [b.label for b in at.button] == ["Sign in as writer"]  # the sidebar's, nothing else
    assert any(info.value.startswith("Read-only") for info in at.info)
    shown = " ".join(str(df.value.to_dict()) for df in at.dataframe)
    assert "tiny.keras" in shown and str(tiny_cnn_path.parent) not in shown  # file names, never server paths


def test_writer_uploads_a_model_stored_by_content_in_the_home(loupe_home, tiny_bytes):
    at = open_models()
    assert not at.checkbox  # no "Trust model code", for writers either
    at = upload_and_register(at, "mine", "my model.keras", tiny_bytes)
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    record = ModelRegistry().get("mine")
    assert at.success[0].value.startswith(f"Registered mine at revision {record.current.short}")
    assert record.current.path == str(loupe_home / "uploads" / f"{record.current.revision}.keras")
    assert not record.current.trusted


def test_lambda_model_upload_is_refused_even_when_the_request_claims_trust(loupe_home, tmp_path):
    import keras

    inputs = keras.Input((4,))
    outputs = keras.layers.Lambda(lambda x: x * 2, name="double")(inputs)
    path = tmp_path / "lambda.keras"
    keras.Model(inputs, outputs).save(path)
    at = open_models(trust_model_code="1", trust="true")
    at.session_state["trust"] = True  # what the old form's checkbox would have sent
    at = upload_and_register(at, "lam", "lambda.keras", path.read_bytes())
    assert not at.exception
    message = at.error[0].value
    assert "contains Lambda layer 'double'" in message
    assert "operator can register it from the command line with --trust-model-code" in message
    assert str(loupe_home) not in message  # the stored upload's path is cut to its name
    assert ModelRegistry().ids() == []


def test_a_taken_id_needs_a_confirmation_naming_what_it_replaces(loupe_home, tiny_cnn_path, tmp_path):
    first = ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="mine")).current
    other = tmp_path / "other.keras"
    build_tiny_cnn(seed=1).save(other)
    at = upload_and_register(open_models(), "mine", "other.keras", other.read_bytes())
    assert not at.exception
    warning = at.warning[0].value
    assert f"replaces its current revision `{first.revision[:12]}`" in warning
    assert f"registered {first.registered_at}" in warning and "file `tiny.keras`" in warning
    assert ModelRegistry().get("mine").current.revision == first.revision  # nothing replaced yet
    at = next(b for b in at.button if b.label == "Replace mine").click().run()
    assert not at.exception, at.exception
    assert ModelRegistry().get("mine").current.revision != first.revision
    assert not at.warning


def test_cancelled_replacement_changes_nothing(loupe_home, tiny_cnn_path, tmp_path):
    first = ModelRegistry().register(RegisterModelSpec(path=tiny_cnn_path, model_id="mine")).current
    other = tmp_path / "other.keras"
    build_tiny_cnn(seed=1).save(other)
    at = upload_and_register(open_models(), "mine", "other.keras", other.read_bytes())
    at = next(b for b in at.button if b.label == "Cancel").click().run()
    assert not at.warning
    assert len(ModelRegistry().get("mine").revisions) == 1
    assert ModelRegistry().get("mine").current.revision == first.revision


@pytest.mark.parametrize("model_id", ["shapes-cnn", "credit-mlp"])
def test_demo_ids_are_refused_from_the_ui(loupe_home, tiny_bytes, model_id):
    at = upload_and_register(open_models(), model_id, "tiny.keras", tiny_bytes)
    assert at.error[0].value.startswith(f"model id {model_id!r} belongs to a demo model")
    assert ModelRegistry().ids() == []


def test_forged_widget_states_of_a_signed_out_visitor_register_nothing(loupe_home, tiny_bytes):
    at = open_models()
    del at.session_state[TOKEN_SESSION_KEY]  # the session is a viewer now; its browser still has the form
    at = upload_and_register(at, "mine", "tiny.keras", tiny_bytes)
    assert not at.exception
    assert ModelRegistry().ids() == []
    assert not at.get("file_uploader")


def test_server_paths_only_inside_the_allowed_folders(loupe_home, tiny_cnn_path, tmp_path, monkeypatch):
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (allowed / "model.keras").write_bytes(tiny_cnn_path.read_bytes())
    (allowed / "escape.keras").symlink_to(tiny_cnn_path)
    monkeypatch.setenv("LOUPE_DATA_ROOTS", str(allowed))
    messages = []
    for text in ["../tiny.keras", "escape.keras", str(tiny_cnn_path), "/dev/zero"]:
        at = open_models()
        at.text_input[0].input("mine")
        at.text_input[1].input(text)
        at = next(b for b in at.button if b.label == "Register").click().run()
        quoted, rest = at.error[0].value.split(" is not a file Loupe may read", 1)
        assert quoted in (repr(text), repr(text.rsplit("/", 1)[-1]))  # what was typed (server paths cut to names)
        messages.append(rest)
    assert len(set(messages)) == 1, messages  # the same message: nothing says whether a path exists
    assert ModelRegistry().ids() == []
    at = open_models()
    at.text_input[0].input("mine")
    at.text_input[1].input("model.keras")
    at = next(b for b in at.button if b.label == "Register").click().run()
    assert not at.error, [e.value for e in at.error]
    assert ModelRegistry().ids() == ["mine"]
