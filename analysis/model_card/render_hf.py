"""``render_hf(card) -> str``: a Hugging Face ``README.md`` (YAML metadata header + the usual sections).

The header is written by PyYAML's safe dumper (``yaml.safe_dump``'s, subclassed to put any string with
a line break, a leading/trailing space or a ``---`` in double quotes on one line), so user
text with ``: # - ' "`` or newlines cannot break it or end it early. It carries ``license``
(HF's key for the SPDX id, or ``other`` with ``license_name``/``license_link``), ``tags``,
``datasets``, ``metrics`` and ``model-index`` results with every defined metric of the
cited records. The body reuses the Markdown renderer's escaped sections.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from analysis.model_card.card import ModelCard
from analysis.model_card.render_markdown import (
    datasets_lines,
    details_lines,
    md_cell,
    md_inline,
    md_list,
    md_text,
    provenance_lines,
    quantitative_lines,
    references_lines,
    risks_lines,
)
from analysis.model_card.spdx import PROPRIETARY, hugging_face_license


class _HeaderDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # libyaml's emitter when present: 5x faster
    """SafeDumper that keeps every string on one line, quoting the risky ones."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    risky = "\n" in value or "\r" in value or value != value.strip() or "---" in value or "..." in value
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if risky else None)


_HeaderDumper.add_representer(str, _represent_str)


def _license_metadata(card: ModelCard) -> dict[str, str]:
    licenses = card.fields.model_details.licenses
    if not licenses:
        return {"license": "unknown"}
    first = licenses[0]
    if first.custom_text:
        return {"license": "other", "license_name": "custom"}
    hf = hugging_face_license(first.identifier)
    if hf:
        return {"license": hf}
    if first.identifier == PROPRIETARY:
        return {"license": "other", "license_name": PROPRIETARY}
    metadata = {"license": "other", "license_name": first.identifier.lower()}
    if not first.identifier.startswith("LicenseRef-"):
        metadata["license_link"] = f"https://spdx.org/licenses/{first.identifier}.html"
    return metadata


def _task_type(card: ModelCard) -> str:
    rank = len(card.summary.input_shape)
    if card.summary.n_classes is None:
        return "other"
    return {1: "tabular-classification", 3: "image-classification"}.get(rank, "other")


def hf_metadata(card: ModelCard) -> dict[str, Any]:
    """The YAML header as a dict (what ``yaml.safe_load`` of the header gives back)."""
    datasets = [Path(info.path).name for info in card.datasets]
    task = _task_type(card)
    tags = ["keras", "tensorflow", "loupe", "model-card"] + [
        kind for kind in ("fairness", "privacy") if any(e.record.kind == kind for e in card.evidence)
    ]
    if task != "other":
        tags.append(task)
    results = []
    for evidence in card.evidence:
        metrics = [
            {"type": m.type, "value": m.value, "name": f"{m.type} ({m.slice})" if m.slice else m.type}
            for m in evidence.metrics
            if m.value is not None
        ]
        if not metrics:
            continue
        dataset = datasets[0] if datasets else ", ".join(sorted(evidence.record.inputs)) or "unknown"
        kind = "Fairness slices" if evidence.record.kind == "fairness" else "Membership-inference audit"
        results.append(
            {
                "task": {"type": task, "name": f"{kind} (Loupe record {evidence.record.record_id})"},
                "dataset": {"name": dataset, "type": dataset},
                "metrics": metrics,
            }
        )
    metadata: dict[str, Any] = {**_license_metadata(card), "library_name": "keras", "tags": tags}
    if datasets:
        metadata["datasets"] = datasets
    names = list(dict.fromkeys(m.name for m in card.metrics if m.value is not None))
    if names:
        metadata["metrics"] = names
    metadata["model-index"] = [{"name": card.name, "results": results}]
    return metadata


def render_hf_header(card: ModelCard) -> str:
    text = yaml.dump(
        hf_metadata(card),
        Dumper=_HeaderDumper,
        sort_keys=False,
        allow_unicode=True,
        width=2**31 - 1,
        default_flow_style=False,
    )
    return f"---\n{text}---\n"


def render_hf(card: ModelCard) -> str:
    """The card as a Hugging Face model repository ``README.md``."""
    details, considerations = card.fields.model_details, card.fields.considerations
    contact = [
        f"- {md_inline(o.name)}" + (f": {md_inline(o.contact)}" if o.contact else "") for o in details.owners
    ] or ["_Not given._"]
    body = [
        f"# Model Card for {md_inline(card.name)}",
        "",
        "## Model Details",
        "",
        "### Model Description",
        "",
        *details_lines(card),
    ]
    if details.references:
        body += ["### Model Sources", "", *[line for line in references_lines(card) if line.startswith("- ")], ""]
    body += [
        "## Uses",
        "",
        "### Intended Users",
        "",
        *md_list(considerations.users),
        "",
        "### Direct Use",
        "",
        *md_list(considerations.use_cases),
        "",
        "### Out-of-Scope Use",
        "",
        *md_list(considerations.out_of_scope_uses),
        "",
        "## Bias, Risks, and Limitations",
        "",
        *md_list(considerations.limitations),
        "",
        "### Trade-offs",
        "",
        *md_list(considerations.tradeoffs),
        "",
        "### Ethical Considerations",
        "",
        *risks_lines(card),
        "",
        "## Training and Evaluation Data",
        "",
        *datasets_lines(card),
        "",
        "## Evaluation",
        "",
        "### Results",
        "",
        *quantitative_lines(card, heading="####"),
        "",
        "### Provenance",
        "",
        *provenance_lines(card),
        "",
    ]
    if details.citations:
        body += ["## Citation", ""]
        for citation in details.citations:
            label = f"**{md_cell(citation.style)}:**" if citation.style else ""
            body += [label, "", md_text(citation.citation), ""] if label else [md_text(citation.citation), ""]
    body += ["## Model Card Contact", "", *contact, ""]
    return render_hf_header(card) + "\n" + "\n".join(body)
