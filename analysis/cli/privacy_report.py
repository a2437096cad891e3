"""``python -m analysis privacy-report``: vulnerability against test accuracy and epoch across audits."""

from __future__ import annotations

import argparse

from analysis.cli.output import add_json_option, emit, output_file, write_text_atomically


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser(
        "privacy-report",
        help="compare stored privacy audits: vulnerability against test accuracy and epoch",
        description="Compare stored audits of one task: give --audits ID,ID,..., --model ID or --run NAME.",
    )
    report.add_argument("--audits", help="comma-separated audit record ids")
    report.add_argument("--model", dest="model_id", help="the audits of a registered model (current revision)")
    report.add_argument("--all-revisions", action="store_true", help="with --model: every revision's audits")
    report.add_argument("--run", help="the audits tagged with a run name (the audit callback, --privacy-variants)")
    add_json_option(report)
    report.add_argument("--html", metavar="PATH", type=output_file, help="write a self-contained HTML report to PATH")
    report.set_defaults(handler=run_privacy_report)


def run_privacy_report(args: argparse.Namespace) -> int:
    from analysis.privacy.report import compute_privacy_report
    from analysis.privacy.report_records import load_report_audits, parse_ids

    records, guarantees = load_report_audits(
        audits=parse_ids(args.audits) if args.audits is not None else (),
        model_id=args.model_id,
        all_revisions=args.all_revisions,
        run=args.run,
    )
    report = compute_privacy_report(records, guarantees=guarantees)
    title = "Privacy against utility: " + (
        f"run {args.run}" if args.run else f"model {args.model_id}" if args.model_id else "selected audits"
    )
    if args.html:
        from analysis.privacy.report_document import render_report_html

        write_text_atomically(args.html, render_report_html(report, title=title))
    emit(report.to_dict(), args.json, _human(title, report))
    return 0


def _human(title: str, report) -> str:  # report: PrivacyReport
    lines = [title, f"{'variant':<28} {'epoch':>5} {'test acc':>8} {'AUC':>6} {'adv':>6} {'TPR@1%':>7} {'eps':>7}"]
    for p in report.points:
        lines.append(
            f"{p.label[:28]:<28} {'' if p.epoch is None else p.epoch:>5} {p.test_accuracy:>8.3f} {p.max_auc:>6.3f} "
            f"{p.attacker_advantage:>6.3f} {'-' if p.tpr_at_1pct is None else f'{p.tpr_at_1pct:.3f}':>7} "
            f"{'-' if p.epsilon is None else f'{p.epsilon:.3g}':>7}{'  *frontier' if p.on_frontier else ''}  "
            f"{p.record_id}"
        )
    return "\n".join(lines)
