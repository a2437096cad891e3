"""/privacy?model=: the form's reference-model attacks (LiRA, RMIA): fields, recipe prefill, bad K, a real run."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.records import RecordStore
from tests.ui.app_support import open_app_page
from ui.audit_jobs import audit_job

PAGE = "ui/pages/privacy.py"
K_LABEL = "Reference models K (even, 2 to 1024)"


def register(home, folder, model_path, *, recipe=None) -> str:
    """``tiny`` with 60 members and 60 non-members (the references need a population of at least 100)."""
    rng = np.random.default_rng(0)
    sets = {}
    for role in (DatasetRole.MEMBERS, DatasetRole.NONMEMBERS):
        sets[role] = folder / f"{role.value}.npz"
        np.savez(sets[role], x=rng.uniform(0, 255, (60, 8, 8, 3)).astype(np.float32), y=np.arange(60) % 3)
    extra = {} if recipe is None else {"training_recipe": recipe}
    ModelRegistry(home).register(RegisterModelSpec(path=model_path, model_id="tiny", datasets=sets, **extra))
    return "tiny"


def number(at: AppTest, label: str):
    return next(n for n in at.number_input if n.label == label)


def choose(at: AppTest, attacks: list[str]) -> AppTest:
    at.multiselect[0].set_value(attacks)
    return at.run()


def test_reference_fields_appear_only_with_a_reference_attack(loupe_home, tmp_path, tiny_cnn_path):
    register(loupe_home, tmp_path, tiny_cnn_path)
    at = open_app_page(PAGE, {"model": "tiny"})
    assert not at.exception, at.exception
    labels = [n.label for n in at.number_input]
    assert K_LABEL not in labels and "Epochs" not in labels
    options = at.multiselect[0].options
    assert {"lira", "lira-offline", "rmia", "rmia-offline", "offset"} <= {o.split(":")[0] for o in options}
    assert any(o.startswith("lira: likelihood ratio against IN and OUT reference models") for o in options)
    at = choose(at, ["threshold", "rmia"])
    assert not at.exception, at.exception
    assert number(at, K_LABEL).value == 16
    assert [r.label for r in at.radio] == ["Engine"]
    captions = [c.value for c in at.caption]
    assert any("LiRA wants many" in c and "RMIA works with few" in c for c in captions)
    # 16 references x 20 epochs over half of 120 examples = 19,200 example passes
    assert any(c.startswith("Cost: 16 references × 20 epochs") and "19,200 example passes" in c for c in captions)
    assert any("trains only the new ones" in c for c in captions)
    at = choose(at, ["threshold"])
    assert K_LABEL not in [n.label for n in at.number_input]


def test_the_recipe_is_prefilled_from_the_registration_else_the_defaults(loupe_home, tmp_path, tiny_cnn_path):
    recipe = {"epochs": 7, "batch_size": 16, "optimizer": "sgd", "learning_rate": 0.05, "augmentation": "flip"}
    register(loupe_home, tmp_path, tiny_cnn_path, recipe=recipe)
    at = choose(open_app_page(PAGE, {"model": "tiny"}), ["lira"])
    assert not at.exception, at.exception
    assert (number(at, "Epochs").value, number(at, "Batch size").value) == (7, 16)
    assert number(at, "Learning rate").value == pytest.approx(0.05)
    assert {s.label: s.value for s in at.selectbox if s.label in ("Optimizer", "Augmentation")} == {
        "Optimizer": "sgd",
        "Augmentation": "flip",
    }
    assert any(c.value.startswith("Prefilled from the training recipe registered with tiny") for c in at.caption)


def test_without_a_registered_recipe_the_defaults_are_said_to_be_defaults(loupe_home, tmp_path, tiny_cnn_path):
    register(loupe_home, tmp_path, tiny_cnn_path)
    at = choose(open_app_page(PAGE, {"model": "tiny"}), ["lira"])
    assert (number(at, "Epochs").value, number(at, "Batch size").value) == (20, 64)
    assert {s.label: s.value for s in at.selectbox if s.label in ("Optimizer", "Augmentation")} == {
        "Optimizer": "adam",
        "Augmentation": "off",
    }
    assert any(
        c.value.startswith("No training recipe is registered with tiny") and "Loupe's defaults" in c.value
        for c in at.caption
    )


BAD_K = "reference models {} must be an even number from 2 to 1024 (they train in complementary pairs)"


@pytest.mark.parametrize(
    "case",
    [
        (K_LABEL, 15, BAD_K.format(15)),
        (K_LABEL, 0, BAD_K.format(0)),
        (
            "Epochs",
            0,
            "the form's recipe: recipe epochs 0 must be an integer from 1 to 10000 (fields are 'epochs', "
            "'batch_size', 'optimizer', 'learning_rate' or 'augmentation')",
        ),
    ],
)
def test_bad_reference_settings_are_refused_and_nothing_starts(loupe_home, tmp_path, tiny_cnn_path, case):
    label, value, message = case
    register(loupe_home, tmp_path, tiny_cnn_path)
    at = choose(open_app_page(PAGE, {"model": "tiny"}), ["lira"])
    number(at, label).set_value(value)
    next(b for b in at.button if b.label == "Run audit").click()
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [message]
    assert "running" not in at.query_params
    assert RecordStore(loupe_home).list(kind="privacy") == []


def test_a_reference_audit_runs_in_the_background_and_opens_its_record(
    loupe_home, tmp_path, tiny_cnn_path, monkeypatch
):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # references train in this process: no worker start-up
    register(loupe_home, tmp_path, tiny_cnn_path)
    at = choose(open_app_page(PAGE, {"model": "tiny"}), ["threshold", "lira", "rmia"])
    at.multiselect[1].set_value([])  # slices: the entire data set only
    number(at, K_LABEL).set_value(2)
    number(at, "Epochs").set_value(1)
    at.run()
    next(b for b in at.button if b.label == "Run audit").click()
    at.run()
    assert not at.exception, at.exception
    job = at.query_params["running"]
    assert job
    at.query_params.clear()
    at.query_params["model"] = "tiny"
    at.run()  # back on the form while it runs: a link to follow it (unless it has finished already)
    links = [link for link in at.get("page_link") if "A reference audit of tiny is running" in link.proto.label]
    assert [link.proto.query_string for link in links] == [f"running={job}"] or audit_job(job).finished is not None
    at.query_params.clear()
    at.query_params["running"] = job
    at.run()
    deadline = time.monotonic() + 120
    while "audit" not in at.query_params and time.monotonic() < deadline:
        assert not at.exception, at.exception
        assert not at.error, [e.value for e in at.error]
        time.sleep(1.0)
        at.run()
    records = RecordStore(loupe_home).list(kind="privacy")
    assert len(records) == 1
    assert at.query_params["audit"] == records[0].record_id
    assert {row["attack"] for row in records[0].result["results"]} == {"threshold", "lira", "rmia"}
    reference = records[0].result["reference"]
    assert (reference["n_references"], reference["trained"], reference["recipe"]["epochs"]) == (2, 2, 1)
    # the defaults (nothing registered) with the epochs changed in the form
    assert (reference["recipe_base"], reference["recipe_flags"]) == ("default", ["epochs"])
    at.run()  # the stored audit's page
    assert not at.exception, at.exception
    assert "Reference-model attacks" in [h.value for h in at.subheader]
    comparison = next(t.value for t in at.table if "Attack" in t.value.columns)
    assert list(comparison["Attack"]) == ["threshold (best classic)", "lira", "rmia"]


def test_too_small_a_population_is_refused_before_anything_starts(tiny_model):
    # tiny_model (tests/ui/conftest.py): 40 members and 30 non-members, under the 100 a population needs
    at = choose(open_app_page(PAGE, {"model": tiny_model}), ["rmia"])
    next(b for b in at.button if b.label == "Run audit").click()
    at.run()
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        "the population has 70 examples; reference models need at least 100 to split into halves "
        "(add examples with --population NPZ)"
    ]
    assert "running" not in at.query_params


def test_a_job_that_fails_shows_the_error_and_stores_nothing(loupe_home, tmp_path, tiny_cnn_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    register(loupe_home, tmp_path, tiny_cnn_path)
    np.savez(tmp_path / "grey.npz", x=np.zeros((50, 8, 8, 1), np.float32), y=np.zeros(50, int))
    at = choose(open_app_page(PAGE, {"model": "tiny"}), ["lira"])
    at.multiselect[1].set_value([])
    number(at, K_LABEL).set_value(2)
    next(t for t in at.text_input if t.label == "Population .npz (optional)").set_value("grey.npz")
    at.run()
    next(b for b in at.button if b.label == "Run audit").click()
    at.run()
    assert not at.exception, at.exception
    job = at.query_params["running"]
    deadline = time.monotonic() + 60
    while not at.error and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
    assert [e.value for e in at.error] == [
        "--population x has examples of shape [8, 8, 1]; model 'tiny' takes [8, 8, 3]"
    ]
    assert at.query_params["running"] == job
    assert RecordStore(loupe_home).list(kind="privacy") == []
    from ui.admission import gate

    assert gate().running() == []  # the job's slot is free again


def test_an_unknown_job_link_is_a_readable_error(loupe_home):
    at = open_app_page(PAGE, {"running": "0123abcd"})
    assert not at.exception, at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith("no running audit '0123abcd' on this server")
    assert [link.proto.label for link in at.get("page_link")][-1] == "Privacy audits: pick a model"


def test_a_frozen_graphdef_is_refused_with_the_way_to_bring_reference_outputs(loupe_home, tmp_path):
    from tests.analysis.models.graphdef_support import SIZE, write_tiny_graphdef

    ModelRegistry(loupe_home).register(
        RegisterModelSpec(path=write_tiny_graphdef(tmp_path / "g.pb"), model_id="graph", input_size=SIZE)
    )
    at = choose(open_app_page(PAGE, {"model": "graph"}), ["lira"])
    next(b for b in at.button if b.label == "Run audit").click()
    at.run()
    assert not at.exception, at.exception
    assert len(at.error) == 1
    assert at.error[0].value.startswith(
        "model 'graph' cannot be cloned to train reference models (it is a frozen GraphDef, not a Keras model); "
        "train references with your own code and pass their outputs with --reference-outputs DIR"
    )
    assert "running" not in at.query_params


def test_over_the_cap_a_reference_audit_does_not_start(loupe_home, tmp_path, tiny_cnn_path, monkeypatch):
    from ui.admission import Limits, gate

    monkeypatch.setenv("LOUPE_MAX_JOBS", "1")
    register(loupe_home, tmp_path, tiny_cnn_path)
    at = choose(open_app_page(PAGE, {"model": "tiny"}), ["lira"])
    busy = gate().admit(
        "session:someone-else", kind="audit", label="an audit of x", limits=Limits(per_visitor=1, total=1)
    )
    try:
        next(b for b in at.button if b.label == "Run audit").click()
        at.run()
    finally:
        gate().release(busy, finished=False)
    assert not at.exception, at.exception
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith("Nothing was started: the server is busy with 1 job (an audit of x, started")
    assert "running" not in at.query_params
    assert gate().running() == []
