"""``python -m analysis privacy-report``: JSON and HTML of a run, and bad input as exit 2 with the message."""

from __future__ import annotations

import json

from analysis.cli.main import main
from analysis.records import RecordStore
from tests.analysis.privacy.report_support import store_variant


def test_run_report_writes_json_and_html(loupe_home, tmp_path, capsys):
    store = RecordStore()
    ids = [store_variant(store, m, 1.5, seed=e, run="toy", epoch=e)[0].record_id for e, m in ((1, 1.6), (2, 4.0))]
    html = tmp_path / "report.html"
    assert main(["privacy-report", "--run", "toy", "--json", "-", "--html", str(html)]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [p["record_id"] for p in payload["points"]] == ids
    assert [p["epoch"] for p in payload["points"]] == [1, 2]
    assert set(payload["frontier"]) <= set(ids) and payload["frontier"]
    text = html.read_text()
    assert "<svg" in text and ids[0] in text and "against epoch" in text
    assert main(["privacy-report", "--audits", ",".join(ids)]) == 0
    assert "frontier" in capsys.readouterr().out


def test_bad_input_exits_2_naming_the_value(loupe_home, capsys):
    assert main(["privacy-report", "--audits", "privacy-missing"]) == 2
    assert "privacy-missing" in capsys.readouterr().err
    assert main(["privacy-report", "--run", "ghost"]) == 2
    assert "no audits tagged with run 'ghost'" in capsys.readouterr().err
