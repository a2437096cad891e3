"""/fairness by role: a viewer sees a stored analysis, never starts one; predictions files only in allowed folders."""

from __future__ import annotations

import pytest

from analysis.records import RecordStore
from analysis.server_files import NOT_ALLOWED
from tests.analysis.fairness.test_fairness_metrics import make_table
from tests.ui.app_support import open_app_page

PAGE = "ui/pages/fairness.py"


@pytest.fixture
def link(loupe_home, tmp_path) -> dict[str, str]:
    path = tmp_path / "preds.csv"
    make_table(400).to_csv(path, index=False)
    return {"predictions": str(path), "label": "y", "score": "p", "sensitive": "sex", "bootstrap": "20"}


def test_viewer_sees_only_stored_analyses(link, loupe_home):
    viewer = open_app_page(PAGE, link, writer=False)
    assert not viewer.exception
    assert [w.value for w in viewer.warning] == [
        "Nothing was started: a fairness analysis of a predictions file needs a writer. "
        "Sign in with the writer token (sidebar)."
    ]
    assert RecordStore(loupe_home).list(kind="fairness") == []
    writer = open_app_page(PAGE, link)
    assert not writer.exception and not writer.error
    (record,) = RecordStore(loupe_home).list(kind="fairness")
    viewer = open_app_page(PAGE, link, writer=False)
    assert not viewer.exception and not viewer.warning and not viewer.error
    assert any(f"Record `{record.record_id}`" in caption.value for caption in viewer.main.caption)
    assert len(RecordStore(loupe_home).list(kind="fairness")) == 1


@pytest.mark.parametrize("path", ["/etc/passwd", "/dev/zero", "../preds.csv", "{tmp}/../preds.csv"])
def test_predictions_outside_the_allowed_folders_are_refused(link, tmp_path, path):
    path = path.format(tmp=tmp_path)
    at = open_app_page(PAGE, {**link, "predictions": path})
    assert not at.exception
    shown = path.rsplit("/", 1)[-1] if path.startswith("/") else path
    assert [e.value for e in at.error] == [NOT_ALLOWED.format(text=shown)]
