"""How values become bytes in the store: JSON, NPZ, PNG, Parquet. Never pickle."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Codec:
    """A named pair of functions ``encode(value) -> bytes`` and ``decode(bytes) -> value``."""

    name: str
    encode: Callable[[Any], bytes]
    decode: Callable[[bytes], Any]


def _encode_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, allow_nan=False).encode()


def _encode_npz(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    for name, array in arrays.items():
        if np.asarray(array).dtype == object:
            raise TypeError(f"array {name!r} has dtype object; the cache stores no pickles")
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _decode_npz(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data), allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _encode_png(image: np.ndarray) -> bytes:
    """``image``: uint8 ``[height, width, 3]`` (or ``[height, width]``)."""
    from PIL import Image

    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise TypeError(f"PNG codec needs uint8 pixels, got {array.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


def _decode_png(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(image.convert("RGB") if image.mode not in ("L", "RGB") else image)


def _encode_parquet(frame: Any) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _decode_parquet(data: bytes) -> Any:
    import pandas as pd

    return pd.read_parquet(io.BytesIO(data))


JSON = Codec("json", _encode_json, json.loads)
NPZ = Codec("npz", _encode_npz, _decode_npz)
PNG = Codec("png", _encode_png, _decode_png)
PARQUET = Codec("parquet", _encode_parquet, _decode_parquet)
CODECS = {codec.name: codec for codec in (JSON, NPZ, PNG, PARQUET)}
