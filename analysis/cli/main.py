"""The CLI dispatcher. Each command lives in its own module with ``add_parser(subparsers)``.

Exit codes: 0 success; 2 bad input (one line on stderr, no traceback); 3 a gate failed
(e.g. ``privacy --fail-above-auc``). Every command accepts ``--json PATH`` (``-`` = stdout).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from analysis.errors import AnalysisInputError

# One module per command; later commands add their module name here.
COMMAND_MODULES = (
    "analysis.cli.models",
    "analysis.cli.records",
    "analysis.cli.card",
    "analysis.cli.fairness",
    "analysis.cli.privacy",
    "analysis.cli.render",
    "analysis.cli.circuits",
    "analysis.cli.explain",
    "analysis.cli.worker",
    "analysis.cli.serve",
)

EXIT_BAD_INPUT = 2
EXIT_GATE_FAILED = 3


class OneLineErrorParser(argparse.ArgumentParser):
    """Argument errors (a missing option, ``--seed x``) as one line on stderr and exit 2, like other bad input.

    argparse's default prints the whole usage first; subcommand parsers inherit this class.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="python -m analysis",
        description="Loupe: interpretability, privacy, fairness and model cards for your Keras models.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except AnalysisInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing partial was stored", file=sys.stderr)
        return 130
