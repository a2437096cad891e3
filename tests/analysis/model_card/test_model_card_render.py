"""Rendering: user text stays data in HTML, Markdown and the HF YAML header; HTML is self-contained."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from analysis.model_card import CardFormat, ModelCardSpec, build_model_card, render_card
from analysis.model_card.render_hf import hf_metadata, render_hf
from analysis.model_card.render_html import render_html
from analysis.model_card.render_markdown import escape_markdown, render_markdown
from analysis.records import RecordStore
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    FAIRNESS_RESULT,
    HOSTILE,
    MODEL_ID,
    PRIVACY_RESULT,
    YAML_HOSTILE,
    card_home,
    card_template,
    full_fields,
    save_records,
)

MULTILINE_HOSTILE = "# heading\n- item\n1. one\n> quote\n    indented code\n---\n===\n<b>bold</b>"


class _Collector(HTMLParser):
    """Tags with attributes, and all text (entities decoded), of an HTML document."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse_html(text: str) -> _Collector:
    collector = _Collector()
    collector.feed(text)
    return collector


def hostile_fields():
    """Every free-text field hostile (licenses and the reference stay valid, but hostile too)."""
    return full_fields(
        model_details__name=HOSTILE,
        model_details__overview=HOSTILE,
        model_details__documentation=HOSTILE + "\n" + MULTILINE_HOSTILE,
        model_details__owners=[{"name": HOSTILE, "contact": HOSTILE}],
        model_details__version={"name": HOSTILE, "date": "2025-01-31", "diff": HOSTILE},
        model_details__licenses=[{"identifier": "MIT"}, {"custom_text": HOSTILE}],
        model_details__references=[{"reference": "javascript:alert(2)"}, {"reference": "https://example.org/?q=<b>"}],
        model_details__citations=[{"style": HOSTILE, "citation": HOSTILE}],
        considerations__users=[HOSTILE],
        considerations__use_cases=[HOSTILE],
        considerations__out_of_scope_uses=[HOSTILE],
        considerations__limitations=[MULTILINE_HOSTILE],
        considerations__tradeoffs=[HOSTILE],
        considerations__ethical_considerations=[{"name": HOSTILE, "mitigation_strategy": HOSTILE}],
    )


@pytest.fixture
def hostile_card(card_home: Path):
    save_records(card_home)
    revision = json.loads(json.dumps(FAIRNESS_RESULT))
    revision["slices"][0]["group"] = {"sex": HOSTILE}
    store = RecordStore(card_home)
    fairness = store.save(
        kind="fairness",
        model_id=MODEL_ID,
        revision=None,
        inputs={"data": "d" * 64},
        parameters={},
        versions={},
        result=revision,
    )
    privacy = store.save(
        kind="privacy",
        model_id=MODEL_ID,
        revision=None,
        inputs={},
        parameters={},
        versions={},
        result={**PRIVACY_RESULT, "results": [{**PRIVACY_RESULT["results"][1], "attack": HOSTILE}]},
    )
    spec = ModelCardSpec(model_id=MODEL_ID, fields=hostile_fields(), record_ids=(fairness.record_id, privacy.record_id))
    return build_model_card(spec)


def test_html_shows_hostile_text_literally_and_runs_nothing(hostile_card) -> None:
    html = render_html(hostile_card)
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    parsed = parse_html(html)
    tags = {tag for tag, _ in parsed.tags}
    assert not tags & {"script", "iframe", "object", "embed", "link", "img", "b"}
    text = "".join(parsed.text)
    assert text.count(HOSTILE) >= 14  # every field, the slice label and the attack name, verbatim
    assert "**bold**" in text and "[link](javascript:alert(2))" in text
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            if name in ("href", "src"):
                assert value is not None and value.startswith(("http://", "https://", "mailto:")), (tag, value)
    links = [attrs["href"] for tag, attrs in parsed.tags if tag == "a"]
    assert links == ["https://example.org/?q=<b>"]  # javascript: is shown, never linked
    assert "javascript:alert(2)" in text


def test_html_is_self_contained_and_printable(card_home: Path) -> None:
    save_records(card_home)
    html = render_html(build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields())))
    parsed = parse_html(html)
    assert not [attrs for _, attrs in parsed.tags if "src" in attrs]
    assert [tag for tag, _ in parsed.tags if tag in ("link", "script", "iframe", "img")] == []
    assert not re.search(r"url\((?!#)", html) and "@import" not in html  # url(#id): an SVG clip path in the page
    csp = next(a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp.startswith("default-src 'none'")
    assert "@media print" in html
    assert html.count("<svg") == 5  # selection rate, accuracy, tpr bars; AUC bars; ROC curves (fpr has no value)
    assert "<title>ROC curves of the membership-inference attacks</title>" in html  # the ROC curves
    assert "stroke-dasharray" in html  # the dashed reference and chance lines
    assert list(dict.fromkeys(a["data-record"] for t, a in parsed.tags if t == "table" and "data-record" in a)) == [
        r for r in build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields())).record_ids
    ]
    text = "".join(parsed.text)
    assert "0.7123 [0.6234, 0.8011]" in " ".join(text.split())  # value with its CI in the metrics table
    assert "— (no negatives in this slice)" in " ".join(text.split())


def _markdown_to_html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").enable("strikethrough").render(markdown)


def test_markdown_escapes_hostile_text(hostile_card) -> None:
    markdown = render_markdown(hostile_card)
    assert "<script>" not in markdown
    rendered = _markdown_to_html(markdown)
    assert "<script" not in rendered and "javascript:" not in rendered.split("href=")[-1][:20]
    parsed = parse_html(rendered)
    assert not [attrs for tag, attrs in parsed.tags if tag == "a"]  # no user text became a link
    assert "b" not in {tag for tag, _ in parsed.tags}
    text = "".join(parsed.text)
    assert text.count(HOSTILE) >= 10
    # line-start syntax in user text makes no heading, list, quote, code block or rule
    made = [t for t, _ in parsed.tags if t in ("h1", "ol", "blockquote", "pre", "hr")]
    assert made == ["h1"] + ["blockquote"] * len(hostile_card.notes)  # the title and Loupe's own notes only
    for line in MULTILINE_HOSTILE.splitlines():
        assert line.strip() in text


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a*b_c`d", "a\\*b\\_c\\`d"),
        ("# not a heading", "\\# not a heading"),
        ("- not a list", "\\- not a list"),
        ("1. not a list", "1\\. not a list"),
        ("<i>x</i> & y", "&lt;i&gt;x&lt;/i&gt; &amp; y"),
        ("[a](b) | c ~~d~~", "\\[a\\](b) \\| c \\~\\~d\\~\\~"),
        ("plain words", "plain words"),
    ],
)
def test_escape_markdown(text: str, escaped: str) -> None:
    assert escape_markdown(text) == escaped


def test_hf_header_survives_yaml_special_characters(card_home: Path) -> None:
    group = {"sex": YAML_HOSTILE}
    result = json.loads(json.dumps(FAIRNESS_RESULT))
    result["slices"][0]["group"] = group
    record = RecordStore(card_home).save(
        kind="fairness", model_id=MODEL_ID, revision=None, inputs={}, parameters={}, versions={}, result=result
    )
    fields = full_fields(model_details__name=YAML_HOSTILE, model_details__overview=YAML_HOSTILE)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=fields, record_ids=(record.record_id,)))
    readme = render_hf(card)
    assert readme.startswith("---\n")
    header, body = readme[4:].split("\n---\n", 1)
    metadata = yaml.safe_load(header)
    assert metadata == hf_metadata(card)
    assert metadata["model-index"][0]["name"] == YAML_HOSTILE
    names = [m["name"] for m in metadata["model-index"][0]["results"][0]["metrics"]]
    assert f"accuracy@0.5 (sex={YAML_HOSTILE})" in names
    assert metadata["license"] == "apache-2.0"
    assert "# Model Card for key: value" in body


def test_hf_metadata_carries_license_tags_datasets_and_the_records_numbers(card_home: Path) -> None:
    save_records(card_home)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields()))
    metadata = yaml.safe_load(render_hf(card)[4:].split("\n---\n", 1)[0])
    assert metadata["license"] == "apache-2.0"
    assert metadata["library_name"] == "keras"
    assert {"keras", "loupe", "fairness", "privacy", "tabular-classification"} <= set(metadata["tags"])
    assert metadata["datasets"] == ["credit.npz"]
    assert {"accuracy", "tpr", "auc", "tpr@1%fpr"} <= set(metadata["metrics"])
    fairness, privacy = metadata["model-index"][0]["results"]
    assert fairness["task"]["type"] == "tabular-classification"
    values = {m["name"]: m["value"] for m in fairness["metrics"]}
    assert values["accuracy@0.5 (sex=F)"] == FAIRNESS_RESULT["slices"][0]["metrics"]["accuracy"]["value"]
    assert values["tpr@0.5"] == FAIRNESS_RESULT["overall"][0]["metrics"]["tpr"]["value"]
    privacy_values = {m["name"]: m["value"] for m in privacy["metrics"]}
    assert privacy_values["membership_inference_auc (threshold) (sex=F)"] == 0.7001


@pytest.mark.parametrize(
    ("licenses", "expected"),
    [
        (
            [{"identifier": "BUSL-1.1"}],
            {"license": "other", "license_name": "busl-1.1", "license_link": "https://spdx.org/licenses/BUSL-1.1.html"},
        ),
        ([{"custom_text": "Ask us."}], {"license": "other", "license_name": "custom"}),
        ([{"identifier": "proprietary"}], {"license": "other", "license_name": "proprietary"}),
        ([], {"license": "unknown"}),
    ],
)
def test_hf_license_mapping(card_home: Path, licenses: list, expected: dict) -> None:
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, fields=full_fields(model_details__licenses=licenses)))
    metadata = hf_metadata(card)
    assert {k: v for k, v in metadata.items() if k.startswith("license")} == expected


def test_json_keeps_hostile_text_as_data(hostile_card) -> None:
    document = json.loads(render_card(hostile_card, CardFormat.JSON))
    assert document == hostile_card.document
    assert document["model_details"]["overview"] == HOSTILE
    assert document["considerations"]["users"] == [{"description": HOSTILE}]


@pytest.mark.parametrize("card_format", list(CardFormat))
def test_every_format_renders(hostile_card, card_format: CardFormat) -> None:
    text = render_card(hostile_card, card_format)
    assert isinstance(text, str) and len(text) > 500
