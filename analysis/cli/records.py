"""``python -m analysis records list|show``: stored privacy, fairness and other records."""

from __future__ import annotations

import argparse

from analysis.cli.output import add_json_option, emit
from analysis.records import RecordStore


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    records = subparsers.add_parser("records", help="list and export stored analysis records")
    verbs = records.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="list records, newest first")
    listing.add_argument("--kind", help="only records of this kind (privacy or fairness)")
    listing.add_argument("--model", help="only records of this model id")
    add_json_option(listing)
    listing.set_defaults(handler=run_list)
    show = verbs.add_parser("show", help="one record in full (export it with --json PATH)")
    show.add_argument("record_id")
    add_json_option(show)
    show.set_defaults(handler=run_show)


def run_list(args: argparse.Namespace) -> int:
    records = RecordStore().list(kind=args.kind, model_id=args.model)
    human = (
        "\n".join(f"{r.record_id}  {r.created_at}  {r.kind:<9} {r.model_id or '-'}" for r in records) or "no records"
    )
    emit({"records": [{k: v for k, v in r.to_dict().items() if k != "result"} for r in records]}, args.json, human)
    return 0


def run_show(args: argparse.Namespace) -> int:
    record = RecordStore().get(args.record_id)
    emit(
        record.to_dict(),
        args.json,
        f"{record.record_id} ({record.kind}, {record.created_at}); use --json PATH to export",
    )
    return 0
