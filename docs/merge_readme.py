"""Regenerate the README's feature sections from docs/*.md (run after editing a doc).

The README keeps its hand-written parts; everything between the ``docs:start`` and
``docs:end`` markers is rebuilt from the docs, in the order of ``SECTIONS``.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# (file, heading levels to add, heading at which to stop, text appended after the section)
SECTIONS = (
    ("microscope_pages.md", 0, None, ""),
    (
        "microscope.md",
        1,
        "## API (for page authors",
        "Python API for page authors and scripts: see [`docs/microscope.md`](docs/microscope.md).\n",
    ),
    ("models_beyond_demo.md", 0, None, ""),
    ("privacy.md", 0, None, ""),
    ("fairness.md", 0, None, ""),
    ("explain.md", 0, None, ""),
    ("model_cards.md", 0, None, ""),
)


def section(path: Path, shift: int, stop: str | None) -> str:
    lines, fenced = [], False
    for raw in path.read_text().splitlines():
        if stop and raw.startswith(stop):
            break
        if raw.startswith("```"):
            fenced = not fenced
        shifted = not fenced and shift and re.match(r"^#+ ", raw)
        lines.append("#" * shift + raw if shifted else raw)
    return "\n".join(lines).strip() + "\n"


def main() -> None:
    parts = []
    for name, shift, stop, after in SECTIONS:
        path = ROOT / "docs" / name
        if path.exists():
            text = section(path, shift, stop)
            if name == "microscope.md":  # its title is replaced by microscope_pages.md's
                text = text.split("\n", 1)[1].lstrip()
            parts.append(text + ("\n" + after if after else ""))
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split("<!-- docs:start -->\n", 1)
    _, tail = rest.split("<!-- docs:end -->", 1)
    (ROOT / "README.md").write_text(head + "<!-- docs:start -->\n" + "\n".join(parts) + "<!-- docs:end -->" + tail)


if __name__ == "__main__":
    main()
