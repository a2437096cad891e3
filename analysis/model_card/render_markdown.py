"""``render_markdown(card) -> str``: the card as Markdown (CommonMark with GFM tables).

User text is data, never markup: :func:`escape_markdown` turns ``&``, ``<`` and ``>`` into
entities (so no HTML tag survives) and backslash-escapes every character that could start
emphasis, code, links, tables or strikethrough anywhere in a line, and those that start a
heading, list, quote or thematic break at the beginning of a line. The section builders
here are shared with the Hugging Face renderer, which arranges them under HF's headings.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis.model_card.card import ModelCard
from analysis.model_card.document import architecture_text, input_format_text, output_format_text
from analysis.model_card.performance import LABELS as PERFORMANCE_LABELS
from analysis.model_card.tables import disparity_metrics, display_ci, display_number, metric_table, privacy_summary

_ANYWHERE = re.compile(r"([\\`*_\[\]|~])")
_ORDERED = re.compile(r"^(\d+)([.)])(?=\s|$)")
SUMMARY_LABELS = {
    "max_auc": "highest AUC",
    "max_tpr_at_1pct_fpr": "highest TPR at 1% FPR",
    "max_tpr_at_0.1pct_fpr": "highest TPR at 0.1% FPR",
}


def escape_markdown(text: str) -> str:
    """One line of user text made literal in Markdown (newlines are handled by the callers)."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _ANYWHERE.sub(r"\\\1", text).lstrip()  # leading spaces would start an indented code block
    if text[:1] in ("#", "+", "-", "="):  # heading, list item, setext underline, thematic break
        text = "\\" + text
    return _ORDERED.sub(r"\1\\\2", text)  # '1. ' and '2) ' would start an ordered list


def md_inline(text: str) -> str:
    """User text on one line (headings, list labels): escaped, line breaks as spaces."""
    return " ".join(escape_markdown(line) for line in text.strip().splitlines())


def md_text(text: str, indent: str = "") -> str:
    """Multi-line user text as Markdown paragraphs, line breaks kept (``indent`` for list items)."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()] or [""]
    blocks = [("\\\n" + indent).join(escape_markdown(line) for line in p.strip().splitlines()) for p in paragraphs]
    return ("\n\n" + indent).join(blocks)


def md_cell(text: str) -> str:
    """User text inside a table cell: escaped, line breaks as ``<br>``."""
    return "<br>".join(escape_markdown(line) for line in text.strip().splitlines())


def md_list(items: tuple[str, ...] | list[str], empty: str = "_Not stated._") -> list[str]:
    return [f"- {md_text(item, indent='  ')}" for item in items] or [empty]


def details_lines(card: ModelCard) -> list[str]:
    details = card.fields.model_details
    version = card.document["model_details"]["version"]
    lines = [md_text(details.overview), ""]
    if details.documentation:
        lines += [md_text(details.documentation), ""]
    lines += [
        f"- **Model id:** `{card.model_id}`",
        f"- **Revision:** `sha256:{card.revision}`",
        "- **Version:** "
        + md_inline(version.get("name", ""))
        + (f" ({escape_markdown(version['date'])})" if version.get("date") else ""),
    ]
    if details.version.diff:
        lines.append(f"- **Changes:** {md_text(details.version.diff, indent='  ')}")
    owners = "; ".join(
        escape_markdown(o.name) + (f" ({escape_markdown(o.contact)})" if o.contact else "") for o in details.owners
    )
    lines.append(f"- **Owners:** {owners or 'not given'}")
    licenses = [f"`{lic.identifier}`" if lic.identifier else "custom (see below)" for lic in details.licenses]
    lines.append(f"- **Licenses:** {', '.join(licenses) or 'not given'}")
    lines += [
        f"- **Architecture:** {escape_markdown(architecture_text(card))}",
        f"- **Input:** {escape_markdown(input_format_text(card))}",
        f"- **Output:** {escape_markdown(output_format_text(card))}",
        "",
    ]
    for lic in details.licenses:
        if lic.custom_text:
            lines += ["**Custom license:**", "", md_text(lic.custom_text), ""]
    return lines


def references_lines(card: ModelCard) -> list[str]:
    details = card.fields.model_details
    lines = [f"- {escape_markdown(r.reference)}" for r in details.references]
    for citation in details.citations:
        style = f" ({escape_markdown(citation.style)})" if citation.style else ""
        lines += ["", f"Citation{style}:", "", md_text(citation.citation)]
    return lines


def datasets_lines(card: ModelCard) -> list[str]:
    if not card.datasets:
        return ["_No datasets are linked to this model._"]
    lines = ["| dataset | role | examples | sensitive columns | content hash |", "|---|---|---:|---|---|"]
    for info in card.datasets:
        columns = ", ".join(md_cell(c) for c in info.metadata_columns) or "—"
        lines.append(
            f"| {md_cell(Path(info.path).name)} | {info.role.value} | {info.n_examples:,} | {columns} | "
            f"`sha256:{info.sha256}` |"
        )
    return lines


def performance_lines(card: ModelCard, heading: str = "###") -> list[str]:
    """The overall performance on the held-out data, or why none is stated."""
    performance = card.performance
    if performance is None:
        return []
    lines = [f"{heading} Overall performance", ""]
    if performance.record is None:
        return [*lines, f"_{md_inline(performance.missing)}_", ""]
    lines += ["| metric | value |", "|---|---:|"]
    lines += [f"| {PERFORMANCE_LABELS.get(m.name, m.name)} | {display_number(m.value)} |" for m in performance.metrics]
    return [*lines, "", md_inline(performance.summary_text()), ""]


def quantitative_lines(card: ModelCard, heading: str = "###") -> list[str]:
    lines = [line for note in card.notes for line in (f"> **Note:** {escape_markdown(note)}", "")]
    lines += performance_lines(card, heading)
    if not card.evidence:
        return [*lines, "_No fairness or privacy records are cited by this card._"]
    for evidence in card.evidence:
        record = evidence.record
        title = "Fairness" if record.kind == "fairness" else "Privacy: membership inference"
        inputs = ", ".join(f"{md_cell(n)} `sha256:{d}`" for n, d in sorted(record.inputs.items())) or "none"
        lines += [
            "",
            f"{heading} {title} (record `{record.record_id}`)",
            "",
            f"Created {record.created_at} on revision `sha256:{record.revision or 'unknown'}`; inputs: {inputs}.",
            "",
        ]
        lines += [line for note in evidence.notes for line in (f"**{md_inline(note)}**", "")]
        summary = privacy_summary(evidence)
        for metric in summary:
            lines.append(f"- **{SUMMARY_LABELS.get(metric.name, metric.name)}:** {display_number(metric.value)}")
        if evidence.worst_slice:
            lines.append(f"- **worst slice:** {md_cell(evidence.worst_slice)}")
        if summary or evidence.worst_slice:
            lines.append("")
        table = metric_table(evidence)
        lines.append(
            "| slice | "
            + table.detail_header
            + " | "
            + " | ".join(md_cell(c.replace("_", " ")) for c in table.columns)
            + " |"
        )
        lines.append("|---|---|" + "---:|" * len(table.columns))
        for row in table.rows:
            cells = [
                (cell.value + (f" {cell.ci}" if cell.ci else "")) if not cell.reason else f"— ({md_cell(cell.reason)})"
                for cell in row.cells
            ]
            lines.append(f"| {md_cell(row.label)} | {md_cell(row.detail) or '—'} | " + " | ".join(cells) + " |")
        if record.kind == "fairness":
            lines += ["", "Values with 95% confidence intervals in brackets."]
        disparities = disparity_metrics(evidence)
        if disparities:
            lines += ["", "| disparity | over | value | 95% interval |", "|---|---|---:|---:|"]
            lines += [
                f"| {md_cell(m.type.replace('_', ' '))} | {md_cell(m.slice) or '—'} | {display_number(m.value)} "
                f"| {display_ci(m)} |"
                for m in disparities
            ]
        if evidence.too_small:
            groups = ", ".join(
                md_cell(label) + (f" ({n} examples)" if n is not None else "") for label, n in evidence.too_small
            )
            lines += ["", f"Too small to report: {groups}."]
    return lines


def risks_lines(card: ModelCard) -> list[str]:
    risks = card.fields.considerations.ethical_considerations
    if not risks:
        return ["_Not stated._"]
    lines = ["| risk | mitigation strategy |", "|---|---|"]
    return lines + [f"| {md_cell(r.name)} | {md_cell(r.mitigation_strategy) or '—'} |" for r in risks]


def provenance_lines(card: ModelCard) -> list[str]:
    lines = ["Every number above comes from a stored Loupe record:", ""]
    cited = [e.record for e in card.evidence]
    if card.performance is not None and card.performance.record is not None:
        cited.insert(0, card.performance.record)
    for record in cited:
        inputs = ", ".join(f"{md_cell(n)} `sha256:{d}`" for n, d in sorted(record.inputs.items())) or "none"
        parameters = json.dumps(dict(record.parameters), sort_keys=True).replace("`", "'")
        lines.append(
            f"- `{record.record_id}` ({record.kind}, created {record.created_at}, revision "
            f"`sha256:{record.revision or 'unknown'}`); inputs: {inputs}; parameters: `{parameters}`"
        )
        lines += [
            f"  - signed bundle {md_cell(bundle.file_name)} `sha256:{bundle.sha256}` "
            f"(Ed25519 public key `{bundle.public_key}`)"
            for bundle in card.bundles_of(record.record_id)
        ]
    return lines if cited else ["_No records cited._"]


def render_markdown(card: ModelCard) -> str:
    """The card as a Markdown document."""
    considerations = card.fields.considerations
    lines = [
        f"# Model card: {md_inline(card.name)}",
        "",
        f"_Generated {card.generated_at} by Loupe (Model Card Toolkit schema v0.0.2)._",
        "",
        "## Model details",
        "",
        *details_lines(card),
    ]
    if card.fields.model_details.references or card.fields.model_details.citations:
        lines += ["### References and citations", "", *references_lines(card), ""]
    lines += [
        "## Intended use",
        "",
        "### Intended users",
        "",
        *md_list(considerations.users),
        "",
        "### Use cases",
        "",
        *md_list(considerations.use_cases),
        "",
        "### Out-of-scope uses",
        "",
        *md_list(considerations.out_of_scope_uses),
        "",
        "## Datasets",
        "",
        *datasets_lines(card),
        "",
        "## Quantitative analysis",
        "",
        *quantitative_lines(card),
        *(card.privacy_guarantee.markdown_lines() if card.privacy_guarantee else ()),
        "",
        "## Limitations",
        "",
        *md_list(considerations.limitations),
        "",
        "## Trade-offs",
        "",
        *md_list(considerations.tradeoffs),
        "",
        "## Ethical considerations",
        "",
        *risks_lines(card),
        "",
        "## Provenance",
        "",
        *provenance_lines(card),
        "",
    ]
    return "\n".join(lines)
