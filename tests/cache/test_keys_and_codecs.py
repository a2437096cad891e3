import math

import numpy as np
import pandas as pd
import pytest

from cache import JSON, NPZ, PARQUET, PNG, make_key
from cache.keys import canonical_json


def test_key_ignores_parameter_order_and_int_float_spelling():
    a = make_key(revision="abc", analysis="featurevis", params={"steps": 512, "lr": 0.05}, code_version="1")
    b = make_key(revision="abc", analysis="featurevis", params={"lr": 0.05, "steps": 512.0}, code_version="1")
    assert a == b
    assert a.startswith("featurevis-")


@pytest.mark.parametrize(
    "change",
    [
        {"revision": "abd"},
        {"analysis": "examples"},
        {"params": {"steps": 513, "lr": 0.05}},
        {"code_version": "2"},
    ],
)
def test_key_changes_with_each_component(change):
    base = {"revision": "abc", "analysis": "featurevis", "params": {"steps": 512, "lr": 0.05}, "code_version": "1"}
    assert make_key(**base) != make_key(**{**base, **change})


def test_numpy_values_hash_like_python_values():
    assert canonical_json({"units": np.arange(3), "k": np.int64(5)}) == canonical_json({"units": [0, 1, 2], "k": 5})


@pytest.mark.parametrize("bad", [math.nan, math.inf, object()])
def test_values_without_canonical_form_are_refused(bad):
    with pytest.raises(TypeError):
        canonical_json({"x": bad})


def test_codecs_round_trip():
    rng = np.random.default_rng(0)
    assert JSON.decode(JSON.encode({"a": [1, 2.5, None]})) == {"a": [1, 2.5, None]}
    arrays = NPZ.decode(NPZ.encode({"w": rng.normal(size=(3, 4)).astype(np.float32), "names": np.array(["a", "b"])}))
    assert arrays["w"].shape == (3, 4) and arrays["names"].tolist() == ["a", "b"]
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    np.testing.assert_array_equal(PNG.decode(PNG.encode(image)), image)
    frame = pd.DataFrame({"x": [1, 2], "g": ["F", "M"]})
    pd.testing.assert_frame_equal(PARQUET.decode(PARQUET.encode(frame)), frame)


def test_npz_codec_refuses_object_arrays():
    with pytest.raises(TypeError, match="dtype object; the cache stores no pickles"):
        NPZ.encode({"bad": np.array([{"a": 1}], dtype=object)})
