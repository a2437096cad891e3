"""The one error type for bad user input.

Anything raised as :class:`AnalysisInputError` is the user's mistake (a bad path, a
wrong layer name, a CSV without a column) and is shown as a one-line message by the
CLI and as ``st.error`` by the pages. Every other exception is a bug and surfaces.
"""

from __future__ import annotations

from collections.abc import Iterable


class AnalysisInputError(ValueError):
    """Bad input from the user; the message names the bad value and what is valid."""


def describe_choices(choices: Iterable[object], limit: int = 12) -> str:
    """Render valid choices for an error message, e.g. ``'a', 'b' or 'c'``."""
    items = [repr(c) for c in choices]
    if not items:
        return "(none)"
    shown = items[:limit]
    more = len(items) - len(shown)
    text = ", ".join(shown[:-1]) + (" or " if len(shown) > 1 else "") + shown[-1]
    return text + (f" (and {more} more)" if more > 0 else "")
