"""``records verify`` on every kind of record the CLI stores, each re-run in a new process.

Record kinds are privacy, fairness and performance (``analysis.records.RECORD_KINDS``). Privacy and
fairness have two sources: files of outputs or predictions (tests/analysis/cli/test_records_verify.py)
and a registered model, scored again from its revision's file, here; performance records (a card's
overall performance) are always scored from a registered model. The model is a tiny CNN registered from a file that
is then deleted, so the re-run must find it through the registry's stored copy, never in memory.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from analysis.cli.main import main
from analysis.hashing import sha256_file
from analysis.models.registry import ModelRegistry
from analysis.records import RECORD_KINDS, RecordStore
from tests.analysis.cli.test_records_verify import verify_in_new_process


def image_set(path: Path, n: int, seed: int, classes: int = 3) -> Path:
    rng = np.random.default_rng(seed)
    np.savez(
        path,
        x=rng.uniform(0, 255, (n, 8, 8, 3)).astype(np.float32),
        y=np.arange(n) % classes,
        split=np.array(["train", "test"])[np.arange(n) % 2],
        meta_site=np.array(["north", "south"])[(np.arange(n) // 2) % 2],
    )
    return path


def binary_model(path: Path) -> Path:
    """A 8x8x3 -> one sigmoid unit classifier (fairness needs a binary one)."""
    import keras

    keras.utils.set_random_seed(1)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    x = keras.layers.Conv2D(2, 3, activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(x)).save(path)
    return path


def record_of(capsys) -> str:
    return json.loads(capsys.readouterr().out)["record_id"]


def verified(home: Path, record_id: str, tmp_path: Path, *args: str) -> dict:
    out = tmp_path / f"{record_id}.json"
    done = verify_in_new_process(home, record_id, *args, "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


def test_model_scored_records_of_every_kind_reproduce_in_a_new_process(loupe_home, tmp_path, tiny_cnn_path, capsys):
    members = image_set(tmp_path / "members.npz", 60, seed=0)
    nonmembers = image_set(tmp_path / "nonmembers.npz", 50, seed=1)
    data = image_set(tmp_path / "data.npz", 200, seed=2, classes=2)
    add = ["models", "add", str(tiny_cnn_path), "--id", "tiny"]
    assert main([*add, "--members", str(members), "--nonmembers", str(nonmembers)]) == 0
    assert main(["models", "add", str(binary_model(tmp_path / "bin.keras")), "--id", "bin", "--data", str(data)]) == 0
    capsys.readouterr()
    audit = ["--attacks", "threshold", "--slices", "class,column:site", "--seed", "4", "--workers", "1"]
    assert main(["privacy", "--model", "tiny", *audit, "--json", "-"]) == 0  # the linked sets
    linked_id = record_of(capsys)
    given = [
        "--members",
        str(image_set(tmp_path / "m2.npz", 30, seed=3)),
        "--nonmembers",
        str(image_set(tmp_path / "n2.npz", 30, seed=4)),
    ]
    assert main(["privacy", "--model", "tiny", *given, *audit, "--json", "-"]) == 0  # files given
    given_id = record_of(capsys)
    assert main(["fairness", "--model", "bin", "--split", "test", "--sensitive", "site", "--bootstrap", "40"]) == 0
    fairness_id = RecordStore().list(kind="fairness")[0].record_id
    (tmp_path / "fields.yaml").write_text("model_details:\n  overview: A tiny binary classifier.\n")
    card = ["card", "--model", "bin", "--fields", str(tmp_path / "fields.yaml"), "--format", "json"]
    assert main([*card, "--out", str(tmp_path / "card.json")]) == 0
    (performance,) = RecordStore().list(kind="performance")  # the card stated (and recorded) its accuracy
    stored = {record.kind for record in RecordStore().list()}
    assert stored == set(RECORD_KINDS)
    capsys.readouterr()
    for record_id in (linked_id, performance.record_id):  # files where the registry says (this process: cheaper)
        assert main(["records", "verify", record_id]) == 0
        assert capsys.readouterr().out.splitlines()[0] == "reproduced"
    assert performance.result["n_examples"] == 100 and 0 <= performance.result["accuracy"] <= 1
    # the model files move: the re-run loads each from where --file says, not from the registry's path
    moved = {}
    for name in ("tiny.keras", "bin.keras"):
        moved[name] = tmp_path / "moved" / name
        moved[name].parent.mkdir(exist_ok=True)
        (tmp_path / name).rename(moved[name])
    for record_id, name in ((given_id, "tiny.keras"), (fairness_id, "bin.keras")):
        assert main(["records", "verify", record_id]) == 2
        assert f"is missing (last seen at {tmp_path / name})" in capsys.readouterr().err
        report = verified(loupe_home, record_id, tmp_path, "--file", f"{sha256_file(moved[name])}={moved[name]}")
        assert report == {
            "record_id": record_id,
            "reproduced": True,
            "differences": [],
            "new_fields": [],
            "versions_differ": {},
        }
    assert ModelRegistry().get("tiny").current.path == str(tmp_path / "tiny.keras")  # this home is not rewritten
    for record_id in (linked_id, given_id):
        privacy = RecordStore().get(record_id)
        assert privacy.parameters["source"]["kind"] == "model" and privacy.model_id == "tiny"
    assert RecordStore().get(fairness_id).model_id == "bin"


def test_a_model_scored_record_whose_numbers_were_changed_differs(loupe_home, tmp_path, tiny_cnn_path, capsys):
    members = image_set(tmp_path / "members.npz", 40, seed=0)
    nonmembers = image_set(tmp_path / "nonmembers.npz", 40, seed=1)
    add = ["models", "add", str(tiny_cnn_path), "--id", "tiny"]
    assert main([*add, "--members", str(members), "--nonmembers", str(nonmembers)]) == 0
    capsys.readouterr()
    assert main(["privacy", "--model", "tiny", "--attacks", "threshold", "--slices", "none", "--json", "-"]) == 0
    record_id = record_of(capsys)
    store = RecordStore()
    body = store.get(record_id).to_dict()
    original = body["result"]["train_loss"]
    body["result"]["train_loss"] = original + 0.01
    connection = sqlite3.connect(store.database)
    with connection:
        connection.execute("UPDATE records SET body=? WHERE record_id=?", (json.dumps(body), record_id))
    connection.close()
    assert main(["records", "verify", record_id]) == 3
    assert capsys.readouterr().out.splitlines()[:2] == [
        "differs: 1 field",
        f"result.train_loss: recorded {body['result']['train_loss']!r}, "
        f"re-run {original!r} (tolerance ±1e-09 + 1e-05 relative)",
    ]


@pytest.mark.parametrize("kind", RECORD_KINDS)
def test_every_record_kind_has_a_rerun_and_documented_tolerances(kind):
    from analysis.cli.record_verify import RERUNS

    docs = (Path(__file__).resolve().parents[3] / "docs" / "records.md").read_text()
    assert kind in RERUNS
    for tolerance in RERUNS[kind].tolerances:
        assert f"| {kind} | `{tolerance.pattern}`" in docs
