"""Markdown escaping of names from users' models, checked against a CommonMark parser (markdown-it-py)."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from ui.microscope_views import markdown_text

NAMES = ["conv2d_1", "a]b", "a[b", "pool[0]", "x)y", "a*b*c", "back\\slash", "`tick`", "$x$", "<b>", "#1 !"]
PNG = "data:image/png;base64,AAAA"


def inline(text: str) -> list:
    return MarkdownIt("commonmark").parseInline(text)[0].children


@pytest.mark.parametrize("name", NAMES)
def test_a_layer_name_in_an_images_alt_text_stays_as_it_is(name: str) -> None:
    (image,) = [t for t in inline(f"![{markdown_text(f'deepdream of layer {name}')}]({PNG})") if t.type == "image"]
    assert "".join(child.content for child in image.children) == f"deepdream of layer {name}"  # the alt text
    assert image.attrs["src"] == PNG


@pytest.mark.parametrize("name", NAMES)
def test_a_layer_name_in_a_label_is_shown_as_text(name: str) -> None:
    tokens = inline(markdown_text(name))
    assert {t.type for t in tokens} == {"text"}  # no emphasis, code, link or HTML
    assert "".join(t.content for t in tokens) == name
