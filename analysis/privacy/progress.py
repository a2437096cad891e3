"""Progress reporting: ``progress(fraction in [0, 1], message)``, always called from the caller's thread."""

from __future__ import annotations

from collections.abc import Callable

ProgressFn = Callable[[float, str], None]


def ignore_progress(fraction: float, message: str) -> None:
    """The default: report nothing."""


def scaled_progress(progress: ProgressFn, start: float, end: float) -> ProgressFn:
    """A callback mapping its own 0..1 onto ``start..end`` of ``progress``."""
    return lambda fraction, message: progress(start + (end - start) * fraction, message)
