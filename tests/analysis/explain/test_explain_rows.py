"""Reading rows of an .npz: a memory map for stored members, the usual loader otherwise; same values either way."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.datasets import load_npz
from analysis.errors import AnalysisInputError
from analysis.explain.rows import open_npz_rows


@pytest.mark.parametrize("fortran", [False, True])
def test_stored_member_is_memory_mapped_with_the_same_values(tmp_path, fortran):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3, 2)).astype(np.float32)
    x = np.asfortranarray(x) if fortran else x
    path = tmp_path / "d.npz"
    np.savez(path, y=np.arange(7), x=x, meta_sex=np.array(["F", "M"] * 3 + ["F"]))
    arrays = open_npz_rows(path)
    assert isinstance(arrays["x"], np.memmap)
    np.testing.assert_array_equal(arrays["x"][[5, 1]], x[[5, 1]])
    assert sorted(arrays) == sorted(load_npz(path))
    np.testing.assert_array_equal(arrays["meta_sex"], load_npz(path)["meta_sex"])


def test_compressed_members_are_loaded(tmp_path):
    path = tmp_path / "c.npz"
    np.savez_compressed(path, x=np.arange(12.0).reshape(4, 3), y=np.arange(4))
    arrays = open_npz_rows(path)
    assert not isinstance(arrays["x"], np.memmap)
    np.testing.assert_array_equal(arrays["x"], np.arange(12.0).reshape(4, 3))


def test_missing_file_is_a_user_error(tmp_path):
    with pytest.raises(AnalysisInputError, match="does not exist"):
        open_npz_rows(tmp_path / "nope.npz")
