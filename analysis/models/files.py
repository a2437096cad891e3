"""Model files: recognise the format by content, refuse unsafe code, load, and inspect.

Formats: Keras v3 ``.keras`` (zip), legacy Keras ``.h5`` (HDF5), TF SavedModel folder.
Loading is safe by default: a model whose config holds a ``Lambda`` layer or a custom
(non-Keras) object is refused before Keras deserializes anything, unless the user
passes ``trust_model_code=True`` (``--trust-model-code`` on the CLI).
TensorFlow is imported only inside the functions that need it.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.models.graphdef import parse_graphdef
from analysis.models.summary import ModelFormat

_ZIP_MAGIC = b"PK\x03\x04"
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
DEFAULT_MAX_MODEL_BYTES = 4 * 2**30
TRUST_HINT = (
    "Loading it would run code stored in the file. If you trust its source, the server's operator can "
    "register it from the command line with --trust-model-code (the web UI never runs a model's code)."
)


def max_model_bytes() -> int:
    return int(os.environ.get("LOUPE_MAX_MODEL_BYTES", DEFAULT_MAX_MODEL_BYTES))


def detect_format(path: Path) -> ModelFormat:
    """The format of ``path`` from its content; raises AnalysisInputError for anything else."""
    path = Path(path)
    if not path.exists():
        raise AnalysisInputError(f"model path {str(path)!r} does not exist")
    if path.is_dir():
        if (path / "saved_model.pb").is_file():
            return ModelFormat.SAVEDMODEL
        raise AnalysisInputError(
            f"folder {str(path)!r} is not a TF SavedModel (it has no saved_model.pb); "
            "valid models are a .keras file, a .h5 file, a frozen GraphDef .pb file or a SavedModel folder"
        )
    size = path.stat().st_size
    if size == 0:
        raise AnalysisInputError(f"model file {str(path)!r} is empty (0 bytes)")
    if size > max_model_bytes():
        raise AnalysisInputError(
            f"model file {str(path)!r} is {size:,} bytes, over the limit of {max_model_bytes():,} bytes "
            "(raise LOUPE_MAX_MODEL_BYTES to allow it)"
        )
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(_ZIP_MAGIC):
        return ModelFormat.KERAS
    if head == _HDF5_MAGIC:
        return ModelFormat.H5
    if path.suffix.lower() == ".pb":  # a GraphDef has no magic bytes: it must parse as one
        parse_graphdef(path)
        return ModelFormat.GRAPHDEF
    raise AnalysisInputError(
        f"{str(path)!r} is not a model Loupe can read (it starts with bytes {head!r}); "
        "valid models are a .keras file (zip), a .h5 file (HDF5), a frozen GraphDef .pb file or a SavedModel folder"
    )


def read_model_config(path: Path, model_format: ModelFormat) -> dict[str, Any] | None:
    """The model's architecture config as stored in the file (None for SavedModel)."""
    try:
        if model_format is ModelFormat.KERAS:
            with zipfile.ZipFile(path) as archive:
                if "config.json" not in archive.namelist():
                    raise AnalysisInputError(
                        f"{str(path)!r} is a zip file but not a Keras model: it has no config.json"
                    )
                return json.loads(archive.read("config.json"))
        if model_format is ModelFormat.H5:
            import h5py

            with h5py.File(path, "r") as handle:
                raw = handle.attrs.get("model_config")
                if raw is None:
                    raise AnalysisInputError(
                        f"{str(path)!r} is an HDF5 file without a model config "
                        "(it holds weights only; save the whole model with model.save)"
                    )
                return json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    except AnalysisInputError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, KeyError) as error:
        raise AnalysisInputError(
            f"model file {str(path)!r} is corrupt or truncated ({type(error).__name__}: {error})"
        ) from error
    return None


def _config_entries(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if "class_name" in node:
            yield node
        for value in node.values():
            yield from _config_entries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _config_entries(value)


def find_unsafe_objects(config: dict[str, Any] | None) -> list[str]:
    """Names of config entries that would run stored code: Lambda layers and custom objects."""
    unsafe: list[str] = []
    for entry in _config_entries(config or {}):
        class_name = str(entry.get("class_name"))
        registered = entry.get("registered_name")
        module = entry.get("module")
        name = (entry.get("config") or {}).get("name") if isinstance(entry.get("config"), dict) else None
        label = f"{class_name} layer {name!r}" if name else class_name
        if class_name == "Lambda":
            unsafe.append(label)
        elif (
            ">" in class_name
            or (registered and registered != class_name)
            or (module and not str(module).startswith("keras"))
        ):
            unsafe.append(f"custom object {registered or class_name}" + (f" ({name!r})" if name else ""))
    return unsafe


def check_safe(path: Path, model_format: ModelFormat, *, trust_model_code: bool) -> None:
    """Refuse a model whose config would run stored code, unless the user trusts it."""
    config = read_model_config(path, model_format)
    if trust_model_code:
        return
    unsafe = find_unsafe_objects(config)
    if unsafe:
        raise AnalysisInputError(
            f"model {str(path)!r} contains {', '.join(unsafe[:5])}"
            + (f" and {len(unsafe) - 5} more" if len(unsafe) > 5 else "")
            + f". {TRUST_HINT}"
        )
