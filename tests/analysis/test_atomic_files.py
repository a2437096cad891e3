"""Atomic writes: the mode any new file gets (not tempfile's 0600), and nothing half-written on failure."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from analysis.atomic_files import new_file_mode, write_atomically


@pytest.fixture
def umask():
    """Set the process umask for one test, and put the old one back."""
    previous = os.umask(0o022)
    os.umask(previous)
    yield os.umask
    os.umask(previous)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o027, 0o640), (0o077, 0o600)])
def test_a_written_file_gets_the_mode_open_would_give_it(tmp_path: Path, umask, mask: int, expected: int) -> None:
    umask(mask)
    write_atomically(tmp_path / "sub" / "page.html", b"<p>hi</p>")
    with open(tmp_path / "plain.html", "wb") as plain:  # the reference: what open() gives a new file
        plain.write(b"x")
    assert new_file_mode() == expected
    assert stat.S_IMODE((tmp_path / "sub" / "page.html").stat().st_mode) == expected
    assert stat.S_IMODE((tmp_path / "plain.html").stat().st_mode) == expected


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "page.html"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_a_write_that_fails_when_the_file_is_closed_leaves_no_temporary(tmp_path: Path, monkeypatch) -> None:
    """Small writes reach the disk only at close (a full disk or a quota then fails there)."""
    target = tmp_path / "report.html"
    real_fdopen = os.fdopen

    class FailsAtClose:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self.stream

        def __exit__(self, *exc):
            self.stream.close()
            raise OSError(122, "Disk quota exceeded")

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FailsAtClose(real_fdopen(fd, mode)))
    with pytest.raises(OSError, match="quota"):
        write_atomically(target, b"<p>report</p>")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_keeps_its_mode(tmp_path: Path, umask) -> None:
    umask(0o022)
    target = tmp_path / "audit.html"
    target.write_bytes(b"old")
    target.chmod(0o600)  # the user made it private
    write_atomically(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o600
