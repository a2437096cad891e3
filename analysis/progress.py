"""The one progress-callback type every long analysis takes (a leaf: imports nothing from analysis).

``progress(fraction, message)``:

- ``fraction``: the share of the work done, a float in ``[0, 1]``; monotone (never goes back
  within one call of the analysis); ``1.0`` once the work is done.
- ``message``: a short human line naming the current stage (e.g. ``"attacks 3/8"``).

It is called from the caller's thread, so a page can update a progress bar from it, and may
be called often: callers that print throttle themselves.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[float, str], None]
