"""Server paths the web UI may read (only inside LOUPE_DATA_ROOTS, after following links) and stored uploads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from analysis.errors import AnalysisInputError
from analysis.server_files import (
    NO_ROOTS,
    NOT_ALLOWED,
    allowed_roots,
    max_upload_bytes,
    resolve_allowed_path,
    store_upload,
)


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "data.npz").write_bytes(b"PK")
    (root / "saved").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.npz").write_bytes(b"PK")
    (root / "link-out.npz").symlink_to(outside / "secret.npz")
    (root / "dir-out").symlink_to(outside)
    (root / "link-in.npz").symlink_to(root / "sub" / "data.npz")
    (root / "zero").symlink_to("/dev/zero")
    os.mkfifo(root / "fifo")
    return {"root": root, "outside": outside}


def test_paths_inside_a_root_resolve(layout):
    root = layout["root"]
    assert resolve_allowed_path(str(root / "sub" / "data.npz"), [root]) == root / "sub" / "data.npz"
    assert resolve_allowed_path("sub/data.npz", [root]) == root / "sub" / "data.npz"  # relative: inside a root
    assert resolve_allowed_path(" link-in.npz ", [root]) == root / "sub" / "data.npz"  # a link that stays inside
    assert resolve_allowed_path("saved", [root], folders=True) == root / "saved"


@pytest.mark.parametrize(
    "text",
    [
        "../outside/secret.npz",  # ..
        "sub/../../outside/secret.npz",
        "{root}/../outside/secret.npz",
        "link-out.npz",  # a symlink out of the root
        "dir-out/secret.npz",
        "{outside}/secret.npz",  # an absolute path elsewhere
        "/etc/passwd",
        "/dev/zero",  # devices and FIFOs, directly or through a link
        "zero",
        "fifo",
        "saved",  # a folder where a file is wanted
        "sub/missing.npz",  # does not exist: the same message
        "/no/such/file.npz",
        "~/.ssh/id_rsa",
        "sub/data.npz\x00",
        "",
    ],
)
def test_everything_else_is_refused_with_one_message(layout, text):
    text = text.format(root=layout["root"], outside=layout["outside"])
    with pytest.raises(AnalysisInputError) as raised:
        resolve_allowed_path(text, [layout["root"]])
    assert str(raised.value) == NOT_ALLOWED.format(text=text.strip())


def test_no_roots_means_no_server_paths(layout):
    with pytest.raises(AnalysisInputError, match="reads no files by path"):
        resolve_allowed_path(str(layout["root"] / "sub" / "data.npz"), [])
    assert NO_ROOTS.format(env="LOUPE_DATA_ROOTS").startswith("this server reads no files by path")


def test_allowed_roots_are_resolved_and_skip_what_is_not_a_folder(layout, tmp_path):
    text = os.pathsep.join(
        [str(layout["root"]), str(tmp_path / "missing"), str(layout["root"] / "sub" / "data.npz"), ""]
    )
    assert allowed_roots({"LOUPE_DATA_ROOTS": text}) == (layout["root"].resolve(),)
    assert allowed_roots({}) == ()


def test_uploads_are_content_addressed_in_the_home_and_limited(loupe_home, monkeypatch):
    first = store_upload(b"PK\x03\x04model", "My Model.KERAS", suffixes=(".keras", ".h5"))
    again = store_upload(memoryview(b"PK\x03\x04model"), "other.keras", suffixes=(".keras", ".h5"))
    assert first == again
    assert first.parent == loupe_home / "uploads"
    assert first.name.endswith(".keras") and len(first.stem) == 64
    assert first.read_bytes() == b"PK\x03\x04model"
    with pytest.raises(AnalysisInputError, match=r"upload 'x.exe' must be a '.keras' or '.h5' file"):
        store_upload(b"x", "x.exe", suffixes=(".keras", ".h5"))
    monkeypatch.setenv("LOUPE_MAX_UPLOAD_MB", "0.000001")
    with pytest.raises(AnalysisInputError, match=r"over this server's limit of 0 MB \(LOUPE_MAX_UPLOAD_MB\)"):
        store_upload(b"x" * 100, "big.keras", suffixes=(".keras",))
    assert sorted(p.name for p in (loupe_home / "uploads").iterdir()) == [first.name]


def test_upload_limit_setting():
    assert max_upload_bytes({}) == 200 * 2**20
    assert max_upload_bytes({"LOUPE_MAX_UPLOAD_MB": "1.5"}) == int(1.5 * 2**20)
    with pytest.raises(AnalysisInputError, match="LOUPE_MAX_UPLOAD_MB 'lots' must be a number of megabytes"):
        max_upload_bytes({"LOUPE_MAX_UPLOAD_MB": "lots"})
