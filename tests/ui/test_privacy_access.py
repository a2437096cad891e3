"""/privacy by role: viewers reopen stored audits but run none; over the job caps nothing starts."""

from __future__ import annotations

from analysis.records import RecordStore
from tests.ui.app_support import open_app_page
from ui.access import TOKEN_SESSION_KEY
from ui.admission import Limits, gate

PAGE = "ui/pages/privacy.py"


def submit_audit(at):
    at.multiselect[0].set_value(["threshold"])
    at.multiselect[1].set_value(["class"])
    return next(b for b in at.button if b.label == "Run audit").click().run()


def test_viewer_gets_no_audit_form_but_reopens_stored_audits(tiny_model, loupe_home):
    writer = submit_audit(open_app_page(PAGE, {"model": tiny_model}, timeout=240))
    assert not writer.exception and not writer.error
    (record,) = RecordStore(loupe_home).list(kind="privacy")
    viewer = open_app_page(PAGE, {"model": tiny_model}, writer=False)
    assert not viewer.exception
    assert [b.label for b in viewer.button] == ["Sign in as writer"]
    assert "Running a new audit needs a writer" in viewer.info[0].value
    assert any("max AUC" in link.proto.label for link in viewer.get("page_link"))  # past audits are listed
    stored = open_app_page(PAGE, {"audit": record.record_id}, writer=False)
    assert not stored.exception and not stored.error
    assert len(stored.get("plotly_chart")) == 3


def test_forged_run_of_a_signed_out_session_stores_nothing(tiny_model, loupe_home):
    at = open_app_page(PAGE, {"model": tiny_model}, timeout=240)
    del at.session_state[TOKEN_SESSION_KEY]
    at = submit_audit(at)
    assert not at.exception
    assert RecordStore(loupe_home).list(kind="privacy") == []


def test_over_the_global_cap_nothing_starts_and_the_visitor_is_told_when(tiny_model, loupe_home, monkeypatch):
    monkeypatch.setenv("LOUPE_MAX_JOBS", "1")
    busy = gate().admit(
        "session:someone-else", kind="render", label="rendering layer conv of x", limits=Limits(per_visitor=1, total=1)
    )
    try:
        at = submit_audit(open_app_page(PAGE, {"model": tiny_model}, timeout=240))
    finally:
        gate().release(busy, finished=False)
    assert not at.exception
    (warning,) = [w.value for w in at.warning]
    assert warning.startswith(
        "Nothing was started: the server is busy with 1 job (rendering layer conv of x, started about 5 s ago), "
        "its limit is 1 at a time. Try again in about"
    )
    assert RecordStore(loupe_home).list(kind="privacy") == []
