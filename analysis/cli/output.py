"""Shared CLI plumbing: ``--json`` output and argument parsers that raise AnalysisInputError."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", metavar="PATH", help="write the result as JSON to PATH ('-' for standard output)")


def emit(payload: dict[str, Any], json_path: str | None, human: str) -> None:
    """Write ``payload`` as JSON where ``--json`` asks, and ``human`` text otherwise.

    With ``--json -`` standard output carries only the JSON, so it can be piped.
    A JSON file is written atomically (temporary file, then rename).
    """
    text = json.dumps(payload, indent=2, allow_nan=False, sort_keys=False)
    if json_path == "-":
        sys.stdout.write(text + "\n")
        return
    if json_path:
        target = Path(json_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=target.parent, delete=False, suffix=".tmp") as handle:
            handle.write(text + "\n")
        os.replace(handle.name, target)
    print(human)


def progress(message: str) -> None:
    """A progress line on stderr (never on stdout, which may carry JSON)."""
    print(message, file=sys.stderr, flush=True)


def parse_range(text: str) -> tuple[float, float]:
    """``"0,255"`` -> ``(0.0, 255.0)``."""
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError as error:
        raise AnalysisInputError(f"range {text!r} must be LO,HI, e.g. 0,255") from error
    if not low < high:
        raise AnalysisInputError(f"range {text!r} must have LO < HI")
    return low, high


def parse_int_ranges(text: str, *, upper: int, what: str = "unit") -> list[int]:
    """``"0-3,7"`` -> ``[0, 1, 2, 3, 7]``, each checked against ``[0, upper)``."""
    values: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            if "-" in part:
                start, end = (int(v) for v in part.split("-", 1))
                values.extend(range(start, end + 1))
            else:
                values.append(int(part))
        except ValueError as error:
            raise AnalysisInputError(f"{what}s {text!r} must be integers or ranges like 0-63,70") from error
    bad = [v for v in values if not 0 <= v < upper]
    if bad or not values:
        raise AnalysisInputError(f"{what} {bad[0] if bad else text!r} is out of range; valid {what}s are 0-{upper - 1}")
    return sorted(set(values))
