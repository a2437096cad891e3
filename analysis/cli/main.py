"""The CLI dispatcher. Each command lives in its own module with ``add_parser(subparsers)``.

Exit codes: 0 success; 2 bad input (one line on stderr, no traceback); 3 a gate failed
(e.g. ``privacy --fail-above-auc``). Every command accepts ``--json PATH`` (``-`` = stdout).
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
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
    "analysis.cli.privacy_report",
    "analysis.cli.render",
    "analysis.cli.circuits",
    "analysis.cli.explain",
    "analysis.cli.worker",
    "analysis.cli.serve",
    "analysis.cli.export_site",
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


# A value that starts with a minus sign and a digit or point: -1,1  -0.5  -3-7  (never an option name).
MINUS_VALUE = re.compile(r"^-\.?\d")


def _single_value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every option string, in ``parser`` and all its subcommands, that takes exactly one value."""
    options: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                options |= _single_value_options(child)
        elif action.option_strings and action.nargs is None:
            options.update(s for s in action.option_strings if s.startswith("--"))
    return options


def join_minus_values(argv: Sequence[str], options: set[str]) -> list[str]:
    """``--input-range -1,1`` as ``--input-range=-1,1``: argparse takes a value starting with ``-`` for an option.

    Only for options that take one value, and only when the next word looks like a number or a range
    (``-1,1``, ``-0.5``); every range and list option accepts the plain form this way, in one place.
    """
    joined: list[str] = []
    words = list(argv)
    index = 0
    while index < len(words):
        word = words[index]
        if word == "--":
            joined.extend(words[index:])
            break
        if word in options and index + 1 < len(words) and MINUS_VALUE.match(words[index + 1]):
            joined.append(f"{word}={words[index + 1]}")
            index += 2
            continue
        joined.append(word)
        index += 1
    return joined


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    words = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(join_minus_values(words, _single_value_options(parser)))
    try:
        return int(args.handler(args) or 0)
    except AnalysisInputError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; nothing partial was stored", file=sys.stderr)
        return 130
