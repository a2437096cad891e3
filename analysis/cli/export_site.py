"""``python -m analysis export-site``: publish a model's Microscope as a static site (incremental).

    python -m analysis export-site --model shapes-cnn --out site/ [--layers conv1,conv2] [--revision REV]
        [--base-url https://example.org/loupe] [--app-url http://loupe.example:8501] [--steps 512]
        [--force] [--require-complete] [--json PATH]

Reads only the result store (what the background worker and ``render`` precomputed); writes only
the files whose content changed. Units not rendered yet are published as placeholders and listed
(``--require-complete`` refuses instead). See docs/static_site.md.
"""

from __future__ import annotations

import argparse
import sys

from analysis.cli.output import add_json_option, emit
from analysis.microscope.featurevis.spec import DEFAULT_STEPS
from analysis.models.summary import units_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    export = subparsers.add_parser("export-site", help="publish a model's Microscope as a static site (incremental)")
    export.add_argument("--model", required=True, dest="model_id", help="a registered model id")
    export.add_argument("--out", required=True, help="the site's folder (created; re-exports update it)")
    export.add_argument("--layers", help="comma-separated layers to publish (default: every layer with units)")
    export.add_argument("--revision", "--rev", dest="revision", help="a revision hash prefix (default: current)")
    export.add_argument("--base-url", help="where the site will be served: canonical links and sitemap.xml")
    export.add_argument("--app-url", help="the Loupe app's address: unit pages link to it for interactive work")
    export.add_argument(
        "--steps",
        type=int,
        default=DEFAULT_STEPS,
        help=f"show renderings made with this many steps (default {DEFAULT_STEPS}, the pages' own)",
    )
    export.add_argument("--force", action="store_true", help="write into a folder that is not a Loupe site")
    export.add_argument(
        "--require-complete",
        action="store_true",
        help="refuse when a unit is not rendered or has no dataset examples (default: publish placeholders)",
    )
    add_json_option(export)
    export.set_defaults(handler=run_export_site)


def run_export_site(args: argparse.Namespace) -> int:
    from analysis.microscope.site_export import SiteExportSpec, export_site

    layers = None if args.layers is None else tuple(args.layers.split(","))
    spec = SiteExportSpec(
        model_id=args.model_id,
        out=args.out,
        layers=layers,
        revision=args.revision,
        base_url=args.base_url,
        app_url=args.app_url,
        steps=args.steps,
        force=args.force,
        require_complete=args.require_complete,
    )
    result = export_site(spec)
    payload = result.to_dict()
    pending = sum(len(units) for units in result.pending.values())
    summary = (
        f"{result.model_id} revision {result.revision[:12]}: {len(result.layers)} layers, "
        f"{units_text(result.units)} -> "
        f"{result.out}/{result.index}; {len(result.written)} files written, {result.unchanged} unchanged, "
        f"{len(result.removed)} removed ({result.files} files, {result.bytes / 1e6:.1f} MB, {result.seconds:.1f} s)"
        + (f"; {units_text(pending)} not rendered yet (placeholders)" if pending else "")
    )
    emit(payload, args.json, summary)
    if args.json == "-":
        print(summary, file=sys.stderr)
    return 0
