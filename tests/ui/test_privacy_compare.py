"""/privacy?compare=...: the report of stored audits, and bad links as a readable error."""

from __future__ import annotations

from analysis.records import RecordStore
from tests.analysis.privacy.report_support import store_variant
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/privacy.py"


def test_compare_ids_and_run_show_both_charts_and_the_table(loupe_home):
    store = RecordStore()
    ids = [store_variant(store, m, 1.5, seed=e, run="toy", epoch=e)[0].record_id for e, m in ((1, 1.6), (2, 4.0))]
    at = open_app_page(PAGE, {"compare": ",".join(ids)})
    assert not at.exception and not at.error
    assert len(at.get("plotly_chart")) == 2  # against accuracy, against epoch
    table = at.dataframe[0].value
    assert list(table["audit"]) == [f"/privacy?audit={i}" for i in ids]
    by_run = open_app_page(PAGE, {"compare": "run:toy"})
    assert not by_run.exception and len(by_run.dataframe[0].value) == 2


def test_bad_compare_links_name_the_problem(loupe_home):
    store = RecordStore()
    real = store_variant(store, 3.0, 1.5, seed=0)[0].record_id
    at = open_app_page(PAGE, {"compare": f"{real},privacy-0000000000000000"})
    assert not at.exception
    assert "privacy-0000000000000000" in at.error[0].value
    other = store_variant(store, 3.0, 1.5, seed=1, data={"members": "z" * 64, "nonmembers": "n" * 64})[0].record_id
    at = open_app_page(PAGE, {"compare": f"{real},{other}"})
    assert "members data is" in at.error[0].value
    at = open_app_page(PAGE, {"compare": "run:ghost"})
    assert "no audits tagged with run 'ghost'" in at.error[0].value
