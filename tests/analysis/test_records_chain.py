"""Content-addressed, chained records: ids pin content; ``records check`` finds edits, deletions, reorderings."""

from __future__ import annotations

import json
import sqlite3

import pytest

from analysis.cli.main import main
from analysis.records import GENESIS, RecordStore, record_digest


def _save(store: RecordStore, n: int) -> list[str]:
    return [
        store.save(
            kind="fairness",
            model_id=None,
            revision=None,
            inputs={"predictions": "ab" * 32},
            parameters={"seed": i},
            versions={"python": "3"},
            result={"value": 0.1 * i, "thresholds": (0.5,)},
        ).record_id
        for i in range(n)
    ]


def _sql(store: RecordStore, statement: str, *args) -> None:
    connection = sqlite3.connect(store.database)
    with connection:
        connection.execute(statement, args)
    connection.close()


@pytest.fixture
def store(loupe_home):
    return RecordStore()


def test_ids_are_content_digests_and_records_chain(store):
    ids = _save(store, 3)
    records = [store.get(i) for i in ids]
    assert all(r.record_id == f"fairness-{r.digest()[:16]}" for r in records)
    assert records[0].previous == GENESIS
    assert [r.previous for r in records[1:]] == [r.digest() for r in records[:2]]
    report = store.check_chain()
    assert report.intact and report.n_records == 3 and report.head == records[2].digest()


def test_check_passes_on_an_intact_chain(store, capsys):
    _save(store, 2)
    assert main(["records", "check"]) == 0
    assert "intact" in capsys.readouterr().out


def test_an_edited_body_is_detected(store, capsys):
    ids = _save(store, 3)
    body = json.loads(
        sqlite3.connect(store.database).execute("SELECT body FROM records WHERE record_id=?", (ids[1],)).fetchone()[0]
    )
    body["result"]["value"] = 0.99
    _sql(store, "UPDATE records SET body=? WHERE record_id=?", json.dumps(body), ids[1])
    assert main(["records", "check"]) == 3
    out = capsys.readouterr().out
    assert f"edited: record {ids[1]}" in out
    assert ids[2] not in out  # the record after it still links to the edited record's id


def test_an_edit_that_rehashes_the_id_breaks_the_next_link(store):
    ids = _save(store, 3)
    record = store.get(ids[1])
    body = record.to_dict() | {"result": {"value": 0.99}}
    forged = f"fairness-{record_digest(body)[:16]}"
    _sql(
        store,
        "UPDATE records SET body=?, record_id=? WHERE record_id=?",
        json.dumps(body | {"record_id": forged}),
        forged,
        ids[1],
    )
    problems = store.check_chain().problems
    assert len(problems) == 1 and f"before {ids[2]}" in problems[0]


def test_a_deleted_record_is_detected(store, capsys):
    ids = _save(store, 3)
    _sql(store, "DELETE FROM records WHERE record_id=?", ids[1])
    assert main(["records", "check"]) == 3
    assert f"deleted: 1 record(s) missing between positions 1 and 3 (before {ids[2]})" in capsys.readouterr().out


def test_deleting_and_renumbering_is_still_detected(store):
    ids = _save(store, 3)
    _sql(store, "DELETE FROM records WHERE record_id=?", ids[1])
    _sql(store, "UPDATE records SET seq=2 WHERE record_id=?", ids[2])
    (problem,) = store.check_chain().problems
    assert problem.startswith(f"deleted or edited: the record written before {ids[2]}")


def test_two_reordered_records_are_detected(store, capsys):
    ids = _save(store, 3)
    _sql(store, "UPDATE records SET seq=-1 WHERE record_id=?", ids[1])
    _sql(store, "UPDATE records SET seq=2 WHERE record_id=?", ids[2])
    _sql(store, "UPDATE records SET seq=3 WHERE record_id=?", ids[1])
    assert main(["records", "check"]) == 3
    out = capsys.readouterr().out
    assert f"reordered: record {ids[2]} (position 2) was written after {ids[1]}" in out


def test_legacy_records_are_migrated_in_place_and_reported(loupe_home, capsys):
    connection = sqlite3.connect(loupe_home / "records.sqlite3")
    connection.executescript(
        "CREATE TABLE records (record_id TEXT PRIMARY KEY, kind TEXT NOT NULL, model_id TEXT, revision TEXT,"
        " created_at TEXT NOT NULL, body TEXT NOT NULL);"
    )
    legacy = {
        "record_id": "privacy-0123456789ab",
        "kind": "privacy",
        "model": None,
        "revision": None,
        "created_at": "2024-01-01T00:00:00+00:00",
        "inputs": {},
        "parameters": {},
        "versions": {},
        "result": {},
        "extra": {},
    }
    connection.execute(
        "INSERT INTO records VALUES (?,?,?,?,?,?)",
        ("privacy-0123456789ab", "privacy", None, None, legacy["created_at"], json.dumps(legacy)),
    )
    connection.commit()
    connection.close()
    store = RecordStore()
    assert store.get("privacy-0123456789ab").is_legacy
    (new,) = _save(store, 1)
    assert store.get(new).previous == record_digest(legacy)
    assert main(["records", "check"]) == 0
    assert "1 legacy record" in capsys.readouterr().out


def test_check_on_an_empty_home(loupe_home, capsys):
    assert main(["records", "check"]) == 0
    assert "no records" in capsys.readouterr().out
