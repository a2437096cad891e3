"""/privacy page: stored audits at stable URLs, running an audit, and bad links as readable errors."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from analysis.privacy import MembershipAuditSpec, SlicingOptions, run_membership_audit, save_audit
from analysis.records import RecordStore
from tests.analysis.privacy.privacy_support import leaky_source
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/privacy.py"


def open_page(params: dict[str, str]) -> AppTest:
    return open_app_page(PAGE, params, timeout=240)


@pytest.fixture
def stored(loupe_home):
    result = run_membership_audit(
        MembershipAuditSpec(
            source=leaky_source(300),
            attacks=("threshold", "entropy"),
            slicing=SlicingOptions(by_percentile=False),
            workers=1,
        )
    )
    return save_audit(result, RecordStore(loupe_home))


def test_audit_deep_link_reopens_a_stored_audit(stored):
    at = open_page({"audit": stored.record_id})
    assert not at.exception, at.exception
    assert not at.error
    assert at.warning[0].value.startswith("High membership-inference risk")
    table = at.table[1].value  # every attack on every slice (the first table: the strongest per slice)
    assert len(table) == len(stored.result["results"])
    auc = [float(text.split()[0]) for text in table["AUC"]]
    assert auc == sorted(auc, reverse=True)  # worst first
    assert len(at.get("plotly_chart")) == 3
    assert len(at.get("download_button")) == 2
    assert f"/privacy?audit={stored.record_id}" in at.main.caption[-1].value


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"audit": "privacy-000000000000"},
            "no stored record 'privacy-000000000000'; list them with 'python -m analysis records list'",
        ),
    ],
)
def test_bad_links_show_a_readable_error(loupe_home, params, message):
    at = open_page(params)
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [message]


def test_unknown_model_link_shows_a_readable_error(tiny_model):
    at = open_page({"model": "nope"})
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["unknown model 'nope'; registered models are 'tiny'"]


def test_a_record_of_another_kind_is_not_shown_as_an_audit(loupe_home):
    other = RecordStore(loupe_home).save(
        kind="fairness", model_id=None, revision=None, inputs={}, parameters={}, versions={}, result={}
    )
    at = open_page({"audit": other.record_id})
    assert not at.exception
    assert [e.value for e in at.error] == [f"record {other.record_id!r} is a fairness record, not a privacy audit"]


def test_running_an_audit_stores_it_and_moves_to_its_stable_url(tiny_model, loupe_home):
    at = open_page({"model": tiny_model})
    assert not at.exception, at.exception
    assert at.selectbox[0].value == "tiny"
    at.multiselect[0].set_value(["threshold"])
    at.multiselect[1].set_value(["class"])
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    assert not at.error
    records = RecordStore(loupe_home).list(kind="privacy")
    assert len(records) == 1 and records[0].model_id == "tiny"
    assert at.query_params["audit"] == records[0].record_id
    assert {row["attack"] for row in records[0].result["results"]} == {"threshold"}
    assert len(at.get("plotly_chart")) == 3
    # the model's page now lists it
    listing = open_page({"model": tiny_model})
    links = listing.get("page_link")
    assert any("max AUC" in link.proto.label for link in links)
