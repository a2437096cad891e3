"""``python -m analysis worker``: drain the precompute queue (renders every unit of every registered layer).

    python -m analysis worker [--engine local|ray] [--batch 32] [--until-empty]

Runs until stopped (Ctrl-C or SIGTERM: the job in hand is given back to the queue, nothing partial
is stored); ``--until-empty`` stops when nothing is left. Several workers may run at once, on this
machine or others sharing the Loupe home. ``make run`` starts one beside the app.
"""

from __future__ import annotations

import argparse
import signal

from analysis.cli.output import add_json_option, emit


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    worker = subparsers.add_parser("worker", help="render queued units in the background (the precompute queue)")
    worker.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (this process) or ray (a Ray cluster sharing the result store, as 'render --engine ray')",
    )
    worker.add_argument("--batch", type=int, default=32, help="units rendered together per claim (default 32)")
    worker.add_argument("--until-empty", action="store_true", help="stop when the queue is empty")
    add_json_option(worker)
    worker.set_defaults(handler=run_worker_command)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def run_worker_command(args: argparse.Namespace) -> int:
    from analysis.errors import AnalysisInputError
    from analysis.microscope.precompute_worker import run_worker

    if not 1 <= args.batch <= 512:
        raise AnalysisInputError(f"--batch {args.batch} must be from 1 to 512")
    signal.signal(signal.SIGTERM, _interrupt)  # stop like Ctrl-C: give the claim back
    claims = run_worker(engine=args.engine, max_units=args.batch, until_empty=args.until_empty)
    emit({"claims": claims}, args.json, f"worker stopped after {claims} claim(s)")
    return 0
