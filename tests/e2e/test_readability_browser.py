"""Every page, in chromium at 1400 px, is readable: no table or label cut off, no "None", no raw column names.

A table or label that overflows its box (``scrollWidth > clientWidth``) is cut off for the reader;
"None" is Python leaking into the page; a snake_case table header (``difference_ci_low``) is a raw
column name. The pages run on a copy of the demo home, with a small privacy audit stored ahead and the
card's fields written (the fairness and explain pages sign in as a writer to compute), so each shows
its charts and tables.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import serve_app

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TOKEN = "e2e-readability-token-0123456789"
SCRIPT_FINISHED = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  return app !== null && app.getAttribute("data-test-script-state") === "notRunning";
}"""
# Elements whose content must fit their box: tables, metric labels, widget labels, captions.
# The one exception: the Models page's preview of a linked data set is the user's own data, browsed in a
# scrolling grid under its own column names (the caption under it starts "First N rows as the model sees them").
IS_DATA_PREVIEW = """(el) => {
  const box = el.closest("[data-testid='stElementContainer']");
  const next = box && box.nextElementSibling;
  return next !== null && next !== undefined && /^First \\d+ rows as the model sees them/.test(next.innerText);
}"""
OVERFLOWS = (
    """() => {
  const isDataPreview = """
    + IS_DATA_PREVIEW
    + """;
  const found = [];
  const check = (selector, what) => document.querySelectorAll(selector).forEach((el) => {
    if (isDataPreview(el)) return;
    if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${what}: ${el.innerText.slice(0, 60).replace(/\\s+/g, " ")} (${el.scrollWidth} > ${el.clientWidth})`);
    }
  });
  check("[data-testid='stMain'] [data-testid='stTable']", "table");
  check("[data-testid='stMain'] [data-testid='stTable'] > div", "table");
  check("[data-testid='stMain'] [data-testid='stTable'] td", "table cell");
  check("[data-testid='stMain'] [data-testid='stTable'] th", "table header");
  check("[data-testid='stMain'] .dvn-scroller", "data frame");
  check("[data-testid='stMain'] [data-testid='stMetricLabel'] p", "metric label");
  check("[data-testid='stMain'] [data-testid='stWidgetLabel'] p", "widget label");
  check("[data-testid='stMain'] [data-testid='stCaptionContainer']", "caption");
  return found;
}"""
)
HEADERS = (
    """() => {
  const isDataPreview = """
    + IS_DATA_PREVIEW
    + """;
  return Array.from(document.querySelectorAll(
    "[data-testid='stMain'] [data-testid='stTable'] th, [data-testid='stMain'] [role='columnheader']"
  )).filter((el) => !isDataPreview(el)).map((el) => el.innerText.trim());
}"""
)
SNAKE_CASE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")


@pytest.fixture(scope="module")
def pages_home(demo_home, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    """A copy of the demo home with a small stored audit of the memorizer and the credit card's fields."""
    from analysis.model_card import CardFieldStore, ModelCardFields
    from analysis.model_card.fields import ModelDetailsFields
    from analysis.models.registry import ModelRegistry
    from analysis.privacy import MembershipAuditSpec, SlicingOptions, run_membership_audit
    from analysis.privacy.audit_records import save_audit
    from analysis.privacy.spec import ModelSource
    from analysis.records import RecordStore

    home = tmp_path_factory.mktemp("readability") / "home"
    shutil.copytree(demo_home, home)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LOUPE_HOME", str(home))
        result = run_membership_audit(
            MembershipAuditSpec(
                source=ModelSource(model_id="shapes-cnn-memorizer"),
                attacks=("threshold",),
                slicing=SlicingOptions(by_percentile=False, by_correctness=False),
                workers=1,
            )
        )
        audit = save_audit(result, RecordStore(home))
        revision = ModelRegistry(home).get("credit-mlp").current.revision
        fields = ModelCardFields(model_details=ModelDetailsFields(overview="Scores loan applications."))
        CardFieldStore(home).save("credit-mlp", revision, fields)
    return home, audit.record_id


@pytest.fixture(scope="module")
def writer_server(pages_home) -> Iterator[str]:
    home, _ = pages_home
    env = {**os.environ, "LOUPE_HOME": str(home), "LOUPE_WRITER_TOKEN": TOKEN, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with serve_app(env) as base:
        yield base


def _links(audit: str) -> list[str]:
    return [
        "/",
        "/models?model=credit-mlp",
        "/microscope?model=shapes-cnn&layer=conv2",
        f"/privacy?audit={audit}",
        "/fairness?model=credit-mlp&intersections=sex*age_band&bootstrap=50&metrics=selection_rate,tpr",
        "/explain?model=credit-mlp&example=0",
        "/card?model=credit-mlp",
    ]


def _settle(page) -> None:
    page.wait_for_function(SCRIPT_FINISHED, timeout=300_000)
    page.wait_for_timeout(400)
    page.wait_for_function(SCRIPT_FINISHED, timeout=300_000)


def test_every_page_fits_its_boxes_and_shows_no_raw_names(pages_home, writer_server: str, browser) -> None:
    _, audit = pages_home
    problems: dict[str, list[str]] = {}
    for link in _links(audit):
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        try:
            page = context.new_page()
            page.goto(f"{writer_server}{link}")
            page.get_by_test_id("stSidebarNav").wait_for(timeout=60_000)
            _settle(page)
            if link.startswith(("/fairness", "/explain")):  # they compute what no one stored yet: a writer's job
                page.get_by_label("Writer token", exact=True).fill(TOKEN)
                page.get_by_role("button", name="Sign in as writer").click()
                page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
                _settle(page)
            found = list(page.evaluate(OVERFLOWS))
            text = page.get_by_test_id("stMain").inner_text()
            found += [f"shows {word!r}" for word in re.findall(r"\bNone\b", text)]
            found += [f"raw column name {h!r}" for h in page.evaluate(HEADERS) if SNAKE_CASE.match(h)]
            if found:
                problems[link] = found
        finally:
            context.close()
    assert not problems, problems
