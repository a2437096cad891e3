"""Cache keys: a hash of what determines a result, nothing else."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

import numpy as np


def make_key(*, revision: str, analysis: str, params: Mapping[str, object], code_version: str) -> str:
    """SHA-256 over (model revision, analysis name, canonical parameters, code version).

    ``revision`` is the content hash of the model (or of the inputs, for analyses
    without a model); bump ``code_version`` whenever an analysis changes its output.
    """
    if not analysis or not code_version:
        raise ValueError("a cache key needs an analysis name and a code version")
    payload = canonical_json(
        {"revision": revision, "analysis": analysis, "params": dict(params), "code_version": code_version}
    )
    return f"{analysis}-{hashlib.sha256(payload.encode()).hexdigest()}"


def canonical_json(value: object) -> str:
    """Canonical JSON for hashing: sorted keys, no spaces, numpy scalars as Python numbers.

    Raises TypeError for values that have no canonical form (objects, NaN), so a key
    can never silently depend on ``repr`` of something.
    """
    return json.dumps(_canonical(value), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _canonical(value: object) -> object:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, np.ndarray):
        return _canonical(value.tolist())
    if isinstance(value, np.generic):
        return _canonical(value.item())
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"non-finite float {value!r} has no canonical form")
        # 1.0 and 1 are the same parameter; both hash as 1.
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if value is None or isinstance(value, bool | int | str):
        return value
    if hasattr(value, "value") and hasattr(type(value), "__members__"):  # Enum
        return _canonical(value.value)
    raise TypeError(f"cannot hash parameter of type {type(value).__name__}: {value!r}")
