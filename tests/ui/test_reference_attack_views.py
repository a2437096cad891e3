"""/privacy?audit=<id> of an audit with reference attacks: the section, its warning, chart and table."""

from __future__ import annotations

import numpy as np

from analysis.privacy import MembershipAuditSpec, SlicingOptions, run_membership_audit, save_audit
from analysis.privacy.reference_spec import ReferenceOptions
from analysis.records import RecordStore
from tests.analysis.privacy.privacy_support import leaky_source
from tests.analysis.privacy.reference_support import write_reference_outputs
from tests.ui.app_support import open_app_page


def test_a_stored_reference_audit_shows_its_section(loupe_home, tmp_path):
    source = leaky_source(200)
    folder = write_reference_outputs(source, tmp_path / "refs", k=6)
    with np.load(folder / "ref-01.npz") as data:
        arrays = dict(data)
    arrays["logits"][0, 0] = np.inf
    np.savez(folder / "ref-01.npz", **arrays)
    result = run_membership_audit(
        MembershipAuditSpec(
            source=source,
            attacks=("threshold", "lira", "rmia"),
            slicing=SlicingOptions.parse("none"),
            workers=1,
            reference=ReferenceOptions(reference_outputs=folder),
        )
    )
    record = save_audit(result, RecordStore(loupe_home))
    at = open_app_page("ui/pages/privacy.py", {"audit": record.record_id}, timeout=240)
    assert not at.exception, at.exception
    assert "Reference-model attacks" in [h.value for h in at.subheader]
    assert [w.value for w in at.warning if w.value.startswith("ref-01.npz")] == [
        "ref-01.npz: training diverged (non-finite loss or outputs); left out of every score"
    ]
    assert len(at.get("plotly_chart")) == 4  # the page's three and the reference comparison
    comparison = next(t.value for t in at.table if "Attack" in t.value.columns)
    assert list(comparison["Attack"]) == ["threshold (best classic)", "lira", "rmia"]
