"""Cached reads behind the /privacy page: stored audits (immutable, so cached by id) and their HTML report."""

from __future__ import annotations

from typing import Any

import streamlit as st

from analysis.paths import loupe_home
from analysis.privacy.audit_records import audit_result, load_audit
from analysis.privacy.result import MembershipAuditResult
from analysis.records import AnalysisRecord, RecordStore


@st.cache_resource
def attack_workers() -> int:
    """Start the attack worker processes once per server, so audits never wait for them."""
    from analysis.privacy.spec import default_workers
    from analysis.privacy.tasks import start_worker_pool

    workers = default_workers()
    start_worker_pool(workers)
    return workers


@st.cache_data(max_entries=64, show_spinner=False)
def _stored_audit(home: str, record_id: str) -> dict[str, Any]:
    record, _ = load_audit(record_id, RecordStore(home))  # raises AnalysisInputError for bad ids
    return record.to_dict()


def stored_audit(record_id: str) -> tuple[AnalysisRecord, MembershipAuditResult]:
    """A stored privacy audit and its result (AnalysisInputError for unknown or non-privacy ids)."""
    record = AnalysisRecord.from_dict(_stored_audit(str(loupe_home()), record_id))
    return record, audit_result(record)


@st.cache_data(max_entries=16, show_spinner="Rendering the HTML report ...")
def report_html(home: str, record_id: str) -> str:
    """The self-contained HTML report of a stored audit (``home`` keys the cache per Loupe home)."""
    from analysis.privacy.report_html import render_html_report

    record, result = load_audit(record_id, RecordStore(home))
    return render_html_report(record, result)
