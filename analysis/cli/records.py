"""``python -m analysis records list|show|check|verify|export|keygen|verify-bundle``: stored records.

``check`` walks the chain (exit 3 when a record was edited, deleted or reordered); ``verify``
re-runs a record and compares (:mod:`analysis.cli.record_verify`); ``export --sign``, ``keygen``
and ``verify-bundle`` make and check signed bundles (:mod:`analysis.cli.record_bundles`).
See docs/records.md.
"""

from __future__ import annotations

import argparse

from analysis.cli.main import EXIT_GATE_FAILED
from analysis.cli.output import add_json_option, emit, output_file
from analysis.records import RecordStore


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    records = subparsers.add_parser("records", help="list, check, re-run, export and sign stored analysis records")
    verbs = records.add_subparsers(dest="verb", required=True, metavar="VERB")
    listing = verbs.add_parser("list", help="list records, newest first")
    listing.add_argument("--kind", help="only records of this kind (privacy, fairness or performance)")
    listing.add_argument("--model", help="only records of this model id")
    add_json_option(listing)
    listing.set_defaults(handler=run_list)
    show = verbs.add_parser("show", help="one record in full (export it with --json PATH)")
    show.add_argument("record_id")
    add_json_option(show)
    show.set_defaults(handler=run_show)
    check = verbs.add_parser("check", help="walk the chain of records; exit 3 if one was edited, deleted or reordered")
    add_json_option(check)
    check.set_defaults(handler=run_check)
    verify = verbs.add_parser(
        "verify", help="re-run a record's analysis on its files and compare (exit 3 if it differs)"
    )
    verify.add_argument("record_id")
    verify.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="HASH=PATH",
        help="where the file with this content hash is (repeat); default: found through the registry",
    )
    add_json_option(verify)
    verify.set_defaults(handler=_lazy("analysis.cli.record_verify", "run_verify"))
    export = verbs.add_parser("export", help="write a record as a signed bundle for a third party")
    export.add_argument("record_id")
    export.add_argument("--sign", required=True, metavar="KEYFILE", help="the Ed25519 private key (records keygen)")
    export.add_argument("--out", required=True, metavar="BUNDLE", type=output_file, help="the bundle file to write")
    add_json_option(export)
    export.set_defaults(handler=_lazy("analysis.cli.record_bundles", "run_export"))
    keygen = verbs.add_parser("keygen", help="make an Ed25519 key pair: KEYFILE (private) and KEYFILE.pub")
    keygen.add_argument("--out", required=True, metavar="KEYFILE", type=output_file)
    keygen.set_defaults(handler=_lazy("analysis.cli.record_bundles", "run_keygen"))
    check_bundle = verbs.add_parser(
        "verify-bundle", help="check a bundle's signature and contents (needs no Loupe home); exit 3 if it fails"
    )
    check_bundle.add_argument("bundle")
    check_bundle.add_argument("--key", required=True, metavar="PUBKEY", help="the signer's public key (KEYFILE.pub)")
    add_json_option(check_bundle)
    check_bundle.set_defaults(handler=_lazy("analysis.cli.record_bundles", "run_verify_bundle"))


def _lazy(module: str, name: str):
    """A handler imported when its verb runs (re-running loads TensorFlow; signing loads cryptography)."""

    def handler(args: argparse.Namespace) -> int:
        import importlib

        return getattr(importlib.import_module(module), name)(args)

    return handler


def run_list(args: argparse.Namespace) -> int:
    records = RecordStore().list(kind=args.kind, model_id=args.model)
    human = (
        "\n".join(f"{r.record_id}  {r.created_at}  {r.kind:<11} {r.model_id or '-'}" for r in records) or "no records"
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


def run_check(args: argparse.Namespace) -> int:
    report = RecordStore().check_chain()
    if report.n_records == 0:
        human = "no records"
    else:
        lines = [f"{report.n_records} records; head {report.head}"]
        if report.n_legacy:
            lines.append(
                f"{report.n_legacy} legacy record{'s' if report.n_legacy != 1 else ''} from before chaining "
                "(random ids, not content-addressed): kept as they are; only the newest is pinned by the chain"
            )
        lines += list(report.problems) or ["chain intact"]
        human = "\n".join(lines)
    emit(report.to_dict(), args.json, human)
    return 0 if report.intact else EXIT_GATE_FAILED
