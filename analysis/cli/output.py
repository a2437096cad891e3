"""Shared CLI plumbing: ``--json`` output and argument parsers that raise AnalysisInputError."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from analysis.atomic_files import write_atomically
from analysis.errors import AnalysisInputError


def add_json_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", metavar="PATH", type=output_file, help="write the result as JSON to PATH ('-' for standard output)"
    )


def output_file(text: str) -> str:
    """``type=`` for an output path option: checked before any work is done, so a bad path costs nothing.

    ``-`` (standard output) and ``""`` (no output) pass through; otherwise the path must not be a
    folder, and its nearest existing ancestor must be a writable folder (missing folders are created).
    """
    if text in ("", "-"):
        return text
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder; give a file path (e.g. inside it)")
    ancestor = path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: {str(ancestor)!r} is not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write {text!r}: folder {str(ancestor)!r} is not writable")
    return text


def write_text_atomically(path: str, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and a rename, so a reader never sees half a file.

    An OS error (disk full, permissions changed since the arguments were checked) is the user's to fix:
    AnalysisInputError naming the path, and nothing is left behind.
    """
    try:
        write_atomically(Path(path), text.encode("utf-8"))
    except OSError as error:
        raise AnalysisInputError(f"cannot write {path!r}: {error.strerror or error}") from error


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
        write_text_atomically(json_path, text + "\n")
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


def parse_int_ranges(text: str, *, upper: int, what: str = "unit", limit: int | None = None) -> list[int]:
    """``"0-3,7"`` -> ``[0, 1, 2, 3, 7]``, each checked against ``[0, upper)``, at most ``limit`` of them.

    Ranges are checked before they are expanded, so ``0-99999999999`` is an error, not a hang.
    """
    spans: list[tuple[int, int]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            start, end = (int(v) for v in part.split("-", 1)) if "-" in part else (int(part), int(part))
        except ValueError as error:
            raise AnalysisInputError(f"{what}s {text!r} must be integers or ranges like 0-63,70") from error
        if end < start:
            raise AnalysisInputError(f"{what}s {text!r}: range {part!r} runs backwards; write {end}-{start}")
        if not 0 <= start < upper or not 0 <= end < upper:
            bad = start if not 0 <= start < upper else end
            raise AnalysisInputError(f"{what} {bad} is out of range; valid {what}s are 0-{upper - 1}")
        spans.append((start, end))
    if not spans:
        raise AnalysisInputError(f"{what}s {text!r} name no {what}; give integers or ranges like 0-63,70")
    count = sum(end - start + 1 for start, end in spans)
    if limit is not None and count > limit:
        raise AnalysisInputError(f"{what}s {text!r} name {count} {what}s; at most {limit} at once")
    return sorted({value for start, end in spans for value in range(start, end + 1)})
