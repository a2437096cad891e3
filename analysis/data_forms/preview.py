"""The first examples of a (converted or user's own) ``.npz``, read without loading the whole file.

Each array is read member by member from the zip: its ``.npy`` header, then only the first rows,
so showing eight examples of a 10-million-row data set reads a few kilobytes.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from analysis.errors import AnalysisInputError


def _first_rows(archive: zipfile.ZipFile, member: str, n: int) -> np.ndarray:
    with archive.open(member) as handle:
        version = np.lib.format.read_magic(handle)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(handle)
        if dtype.hasobject:
            raise AnalysisInputError(f"array {member!r} holds objects, which Loupe refuses to unpickle")
        if not shape:
            return np.frombuffer(handle.read(dtype.itemsize), dtype=dtype).reshape(())
        if fortran:
            raise AnalysisInputError(f"array {member!r} is stored in Fortran order; save it with numpy.savez")
        rows = min(n, shape[0])
        per_row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize
        data = handle.read(rows * per_row)
        return np.frombuffer(data, dtype=dtype).reshape((rows, *shape[1:])).copy()


def first_examples(path: Path, n: int = 8) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` at ``path``, cut to its first ``n`` rows (names and 0-d arrays whole)."""
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {}
            for member in archive.namelist():
                if member.endswith(".npy"):
                    name = member[: -len(".npy")]
                    whole = name in ("feature_names", "class_names", "source_json")
                    arrays[name] = _first_rows(archive, member, 10**9 if whole else n)
            return arrays
    except (OSError, zipfile.BadZipFile, ValueError) as error:
        raise AnalysisInputError(f"data file {str(path)!r} cannot be previewed: {error}") from error
