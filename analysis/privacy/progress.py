"""Progress helpers for the audit: a do-nothing default and a sub-range of a callback.

The callback type and its contract are :data:`analysis.progress.Progress`.
"""

from __future__ import annotations

from analysis.progress import Progress


def ignore_progress(fraction: float, message: str) -> None:
    """The default: report nothing."""


def scaled_progress(progress: Progress, start: float, end: float) -> Progress:
    """A callback mapping its own 0..1 onto ``start..end`` of ``progress``."""
    return lambda fraction, message: progress(start + (end - start) * fraction, message)
