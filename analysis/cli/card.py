"""``python -m analysis card``: generate a model card in JSON, HTML, Markdown or HF README form."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis.cli.output import output_file, progress, write_text_atomically
from analysis.model_card import (
    CardFieldStore,
    CardFormat,
    ModelCardSpec,
    build_model_card,
    load_fields_yaml,
    render_card,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    card = subparsers.add_parser(
        "card",
        help="generate a model card from the registry, stored records and written fields",
        description=(
            "Generate a model card (Model Card Toolkit schema v0.0.2) for a registered model. "
            "Fields given with --fields are saved for the model's revision and reused next time."
        ),
    )
    card.add_argument("--model", required=True, dest="model_id", help="registered model id")
    card.add_argument("--format", required=True, choices=[f.value for f in CardFormat], help="json, html, md or hf")
    card.add_argument("--out", required=True, type=output_file, help="output file ('-' for standard output)")
    card.add_argument("--fields", help="YAML with the qualitative fields (model_details.overview, ...)")
    card.add_argument("--records", help="record ids to cite, comma-separated (default: latest fairness and privacy)")
    card.add_argument("--revision", help="revision hash prefix (default: the current revision)")
    card.add_argument(
        "--bundle",
        action="append",
        default=[],
        metavar="BUNDLE",
        help="a signed bundle of a record (records export --sign): the card cites the record and embeds the "
        "bundle's sha256 (repeat; bundles exported from this home are embedded anyway)",
    )
    card.set_defaults(handler=run_card)


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    write_text_atomically(path, text)


def run_card(args: argparse.Namespace) -> int:
    fields = load_fields_yaml(Path(args.fields)) if args.fields else None
    records = tuple(args.records.split(",")) if args.records is not None else None
    if args.bundle:
        from analysis.cli.record_bundles import note_bundle_for_card

        bundled = tuple(note_bundle_for_card(Path(b)).record_id for b in args.bundle)
        if records is None:
            from analysis.model_card.assemble import default_record_ids

            records = default_record_ids(args.model_id, args.revision)
        records = (*records, *bundled)
    spec = ModelCardSpec(
        model_id=args.model_id,
        revision=args.revision,
        record_ids=records,
        fields=fields,
        graphics=args.format == CardFormat.JSON.value,  # PNG charts live in the JSON; HTML draws SVG
    )
    card = build_model_card(spec)  # validates fields and the schema before anything is saved or written
    if fields is not None:
        CardFieldStore().save(card.model_id, card.revision, fields)
    text = render_card(card, CardFormat(args.format))
    _write(args.out, text)
    cited = ", ".join(card.cited_record_ids) or "no records"
    message = f"wrote {args.format} card for {card.model_id} (revision {card.revision[:12]}, citing {cited})"
    if args.out == "-":
        progress(message)
    else:
        print(f"{message} to {args.out} ({len(text.encode('utf-8')):,} bytes)")
    return 0
