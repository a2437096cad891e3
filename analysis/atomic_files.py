"""Writing a file so that no reader ever sees half of it, with the mode the file would otherwise get.

``tempfile`` creates its files readable by their owner only (0600), and a rename keeps that mode:
an exported site written that way could not be served by a web server running as another user. A
new file gets ``0666`` minus the process's umask, as ``open()`` would give it; a file that already
exists keeps its mode (a report the user made private stays private).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def new_file_mode() -> int:
    """The mode ``open()`` gives a new file: 0666 minus the umask (read from /proc where it can be)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    # Elsewhere the umask can only be read by setting it: for that instant, a file another thread
    # creates gets 022. Loupe's writers are a CLI and an export, where no other thread creates files.
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def write_atomically(target: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write ``data`` to ``target`` through a temporary file in the same folder and a rename.

    ``mode``: the file's mode; by default an existing file's own, else :func:`new_file_mode`. On
    any error (while writing, flushing at close, or renaming) the temporary file is removed and
    ``target`` is left as it was.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = new_file_mode()
    handle, name = tempfile.mkstemp(dir=target.parent, prefix=".", suffix=".tmp")
    temporary = Path(name)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            os.fchmod(stream.fileno(), mode)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
