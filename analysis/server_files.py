"""Files the web UI may read: paths inside the folders the operator allows, and stored uploads.

The command line runs as the operator and reads any path it is given. The web UI reads only

* paths inside the folders listed in ``LOUPE_DATA_ROOTS`` (``os.pathsep``-separated; none by
  default, so a fresh server accepts uploads only), resolved with every symlink followed and
  then checked to lie inside a root, and only regular files (or, for SavedModels, folders);
* uploads, at most ``LOUPE_MAX_UPLOAD_MB`` megabytes each, stored content-addressed under
  ``<LOUPE_HOME>/uploads/<sha256><suffix>``.

Every refusal of a server path gives the same message, so an answer never reveals whether a
path exists, is a symlink, a device or outside the allowed folders.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from analysis.errors import AnalysisInputError, describe_choices
from analysis.paths import loupe_home

DATA_ROOTS_ENV = "LOUPE_DATA_ROOTS"
MAX_UPLOAD_ENV = "LOUPE_MAX_UPLOAD_MB"
DEFAULT_MAX_UPLOAD_MB = 200  # Streamlit's own default for server.maxUploadSize
NOT_ALLOWED = (
    "{text!r} is not a file Loupe may read: give a path to a regular file (or a SavedModel folder) "
    f"inside the folders this server's operator allows ({DATA_ROOTS_ENV}), or upload the file"
)
NO_ROOTS = (
    "this server reads no files by path (its operator allows no folders: {env} is not set); upload the file instead"
)


def allowed_roots(environ: Mapping[str, str] | None = None) -> tuple[Path, ...]:
    """The allowed folders, resolved; entries that are not existing folders are left out."""
    text = (os.environ if environ is None else environ).get(DATA_ROOTS_ENV, "")
    roots = []
    for entry in text.split(os.pathsep):
        if not entry.strip():
            continue
        try:
            root = Path(entry.strip()).expanduser().resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if root.is_dir():
            roots.append(root)
    return tuple(roots)


def resolve_allowed_path(text: str, roots: Iterable[Path], *, folders: bool = False) -> Path:
    """The real path of ``text`` if it lies inside one of ``roots``; AnalysisInputError otherwise.

    A relative ``text`` is looked up inside each root in turn. ``..`` is refused outright;
    symlinks are followed and the target must be inside a root too. Only regular files are
    accepted (and folders when ``folders``): never devices, FIFOs or sockets.
    """
    roots = tuple(roots)
    if not roots:
        raise AnalysisInputError(NO_ROOTS.format(env=DATA_ROOTS_ENV))
    refused = AnalysisInputError(NOT_ALLOWED.format(text=text.strip()))
    raw = text.strip()
    if not raw or "\x00" in raw:
        raise refused
    candidate = Path(raw)
    if ".." in candidate.parts or raw.startswith("~"):
        raise refused
    for path in [candidate] if candidate.is_absolute() else [root / candidate for root in roots]:
        try:
            resolved = path.resolve(strict=True)
            mode = resolved.stat().st_mode
        except (OSError, RuntimeError, ValueError):
            continue
        if not any(resolved.is_relative_to(root) for root in roots):
            continue
        if stat.S_ISREG(mode) or (folders and stat.S_ISDIR(mode)):
            return resolved
    raise refused


def max_upload_bytes(environ: Mapping[str, str] | None = None) -> int:
    text = (os.environ if environ is None else environ).get(MAX_UPLOAD_ENV, "")
    try:
        megabytes = float(text) if text.strip() else DEFAULT_MAX_UPLOAD_MB
    except ValueError as error:
        raise AnalysisInputError(f"{MAX_UPLOAD_ENV} {text!r} must be a number of megabytes") from error
    return int(megabytes * 2**20)


def store_upload(data: bytes | memoryview, name: str, *, suffixes: Iterable[str]) -> Path:
    """Store an uploaded file as ``<LOUPE_HOME>/uploads/<sha256><suffix>`` and return that path.

    Refuses files over :func:`max_upload_bytes` and names whose suffix is not one of ``suffixes``.
    The same content uploaded twice is stored once.
    """
    suffix = Path(name).suffix.lower()
    allowed = tuple(s.lower() for s in suffixes)
    if suffix not in allowed:
        raise AnalysisInputError(f"upload {Path(name).name!r} must be a {describe_choices(allowed)} file")
    size, limit = len(data), max_upload_bytes()
    if size > limit:
        raise AnalysisInputError(
            f"upload {Path(name).name!r} is {size / 2**20:,.1f} MB, over this server's limit of "
            f"{limit / 2**20:,.0f} MB ({MAX_UPLOAD_ENV})"
        )
    digest = hashlib.sha256(data).hexdigest()
    folder = loupe_home() / "uploads"
    folder.mkdir(exist_ok=True)
    target = folder / f"{digest}{suffix}"
    if not target.is_file():
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".part", delete=False) as handle:
            handle.write(data)
        os.replace(handle.name, target)
    return target
