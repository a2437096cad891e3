"""Reading a few rows of a large ``.npz`` without loading all of it.

An explanation needs its examples and background rows, not the whole data set (shapes-cnn's
``x`` is 491 MB). ``np.savez`` stores members uncompressed, so ``x.npy`` is a plain ``.npy``
inside the zip: :func:`open_npz_rows` memory-maps it read-only, and indexing reads only the
rows asked for. Compressed members, and every other array, are loaded as usual (without pickles).
"""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import numpy as np

from analysis.datasets import load_npz

_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")  # the zip local file header, 30 bytes
_LOCAL_MAGIC = b"PK\x03\x04"


def _memmap_member(path: Path, name: str) -> np.ndarray | None:
    """A read-only memmap of member ``name`` (a stored ``.npy``), or None when it cannot be mapped."""
    try:
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo(name)
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            return None
        with open(path, "rb") as handle:
            handle.seek(info.header_offset)
            fields = _LOCAL_HEADER.unpack(handle.read(_LOCAL_HEADER.size))
            if fields[0] != _LOCAL_MAGIC:
                return None
            handle.seek(fields[9] + fields[10], 1)  # file name and extra field
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            else:
                return None
            offset = handle.tell()
        if dtype.hasobject or not shape:
            return None
        return np.memmap(path, dtype=dtype, mode="r", shape=shape, order="F" if fortran else "C", offset=offset)
    except (KeyError, OSError, ValueError, zipfile.BadZipFile, struct.error):
        return None


def open_npz_rows(path: Path, large: str = "x") -> dict[str, np.ndarray]:
    """Every array of ``path``; ``large`` is memory-mapped when stored uncompressed (else loaded)."""
    path = Path(path)
    mapped = _memmap_member(path, f"{large}.npy") if path.is_file() else None
    if mapped is None:
        return load_npz(path)
    with zipfile.ZipFile(path) as archive:
        names = [n[:-4] for n in archive.namelist() if n.endswith(".npy") and n != f"{large}.npy"]
    arrays: dict[str, np.ndarray] = {large: mapped}
    if names:
        with np.load(path, allow_pickle=False) as archive:
            arrays.update({name: archive[name] for name in names})
    return arrays
