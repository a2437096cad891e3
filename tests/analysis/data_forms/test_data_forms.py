"""Every data-set form gives the same arrays as the .npz written from the same data (no TensorFlow here)."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.data_forms import ConversionPolicy, DataForm, DataSourceSpec, Fit, convert_dataset, preview_dataset
from analysis.data_forms.convert import iter_batches
from analysis.datasets import DatasetRole, inspect_dataset, load_npz
from analysis.errors import AnalysisInputError
from tests.analysis.data_forms.conftest import CLASSES, SIZE, expected_x

GREY = ConversionPolicy(shape=(SIZE, SIZE, 1), input_range=(-1.0, 1.0), n_classes=3)
TABULAR = ConversionPolicy(shape=(4,), n_classes=2)


def _convert(tmp_path, source, policy):
    converted = convert_dataset(source, policy, out_dir=tmp_path / "converted")
    return converted, load_npz(converted.path)


def test_image_folder_flat_folder_and_npz_give_identical_arrays(image_forms, tmp_path):
    folder, arrays = _convert(tmp_path, DataSourceSpec(path=image_forms.folder), GREY)
    flat, flat_arrays = _convert(tmp_path, DataSourceSpec(path=image_forms.flat), GREY)
    reference = load_npz(image_forms.npz)
    assert DataSourceSpec(path=image_forms.folder).form is DataForm.IMAGE_FOLDER
    assert DataSourceSpec(path=image_forms.flat).form is DataForm.IMAGE_LIST
    np.testing.assert_allclose(arrays["x"], reference["x"], atol=1e-6)
    np.testing.assert_allclose(flat_arrays["x"], reference["x"], atol=1e-6)
    np.testing.assert_array_equal(arrays["y"], reference["y"])
    np.testing.assert_array_equal(flat_arrays["y"], reference["y"])
    np.testing.assert_array_equal(flat_arrays["meta_site"], reference["meta_site"])
    assert tuple(arrays["class_names"]) == tuple(flat_arrays["class_names"]) == CLASSES
    assert folder.source["sha256"] != flat.source["sha256"] and folder.source["skipped"] == 0
    # the same source converts to the same bytes (a stable hash for records), and is reused
    again = convert_dataset(DataSourceSpec(path=image_forms.folder), GREY, out_dir=tmp_path / "other")
    assert again.path.read_bytes() == folder.path.read_bytes()
    reused = convert_dataset(DataSourceSpec(path=image_forms.folder), GREY, out_dir=tmp_path / "other")
    assert reused.path == again.path and reused.source == folder.source


def test_converted_file_passes_the_npz_checks_and_records_its_source(image_forms, tmp_path):
    converted, _ = _convert(tmp_path, DataSourceSpec(path=image_forms.flat), GREY)
    info = inspect_dataset(converted.path, DatasetRole.DATA, input_shape=(SIZE, SIZE, 1))
    assert info.n_examples == 12 and info.n_classes == 3 and info.metadata_columns == ("site",)
    source = converted.source
    assert source["path"] == str(image_forms.flat.resolve()) and source["form"] == "image-list"
    assert "resized (bilinear) to 16x16, converted to grey" in source["conversion"]
    assert source["class_names"] == list(CLASSES)


def test_tables_give_the_npz_arrays(table_forms, tmp_path):
    reference = load_npz(table_forms.npz)
    for path in (table_forms.csv, table_forms.parquet):
        _, arrays = _convert(tmp_path, DataSourceSpec(path=path, meta=("sex",)), TABULAR)
        np.testing.assert_allclose(arrays["x"], reference["x"], rtol=1e-6)
        np.testing.assert_array_equal(arrays["y"], reference["y"])
        np.testing.assert_array_equal(arrays["meta_sex"], reference["meta_sex"])
        assert tuple(arrays["feature_names"]) == ("age", "income", "hours", "debt")  # label and meta left out


def test_a_table_streams_in_batches(table_forms):
    from analysis.data_forms.tables import iter_table_batches

    batches = list(iter_table_batches(DataSourceSpec(path=table_forms.parquet, meta=("sex",)), batch_size=64))
    assert len(batches) == 5 and [len(b.x) for b in batches] == [64, 64, 64, 64, 44]
    np.testing.assert_allclose(np.concatenate([b.x for b in batches]), table_forms.x, rtol=1e-6)
    assert len(preview_dataset(DataSourceSpec(path=table_forms.csv), TABULAR, n=5).x) == 5


def test_chosen_features_and_their_order(table_forms, tmp_path):
    source = DataSourceSpec(path=table_forms.csv, features="debt,age", meta="sex")
    _, arrays = _convert(tmp_path, source, ConversionPolicy(shape=(2,), n_classes=2))
    np.testing.assert_allclose(arrays["x"], table_forms.x[:, [3, 0]], rtol=1e-6)


def test_mixed_sizes_are_resized_and_crop_keeps_the_centre(tmp_path):
    from PIL import Image

    folder = tmp_path / "mixed"
    (folder / "a").mkdir(parents=True)
    Image.fromarray(np.full((32, 32), 255, np.uint8)).save(folder / "a" / "big.png")
    wide = np.zeros((16, 48), np.uint8)
    wide[:, 16:32] = 255  # white centre square, black sides
    Image.fromarray(wide).save(folder / "a" / "wide.png")
    _, resized = _convert(tmp_path, DataSourceSpec(path=folder), GREY)
    assert resized["x"].shape == (2, SIZE, SIZE, 1)
    np.testing.assert_allclose(resized["x"][0], 1.0)  # uniform white stays white
    assert resized["x"][1].min() == -1.0  # stretched: the black sides are still there
    _, cropped = _convert(tmp_path, DataSourceSpec(path=folder, fit=Fit.CROP), GREY)
    np.testing.assert_allclose(cropped["x"][1], 1.0)  # centre-cropped to the white square


def test_rgb_images_for_a_grey_model_use_pil_luma(tmp_path):
    from PIL import Image

    folder = tmp_path / "rgb"
    (folder / "a").mkdir(parents=True)
    rgb = np.zeros((SIZE, SIZE, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    Image.fromarray(rgb).save(folder / "a" / "x.png")
    _, arrays = _convert(tmp_path, DataSourceSpec(path=folder), GREY)
    luma = round(200 * 299 / 1000 + 100 * 587 / 1000 + 50 * 114 / 1000)  # ITU-R 601-2, what PIL's "L" uses
    np.testing.assert_allclose(arrays["x"][0], expected_x(np.full((SIZE, SIZE), luma, np.uint8)), atol=1 / 127)


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path):
    from PIL import Image

    folder = tmp_path / "deep"
    (folder / "a").mkdir(parents=True)
    deep = np.full((SIZE, SIZE), 257 * 64, dtype=np.uint16)  # 8-bit value 64
    Image.fromarray(deep).save(folder / "a" / "x.png")
    _, arrays = _convert(tmp_path, DataSourceSpec(path=folder), GREY)
    np.testing.assert_allclose(arrays["x"][0], expected_x(np.full((SIZE, SIZE), 64, np.uint8)), atol=1e-6)


def test_a_corrupt_image_is_skipped_and_named(image_forms, tmp_path):
    for i in range(30):  # 42 images: one broken one is under the 5% rule
        (image_forms.folder / "circle" / f"extra_{i:02d}.png").write_bytes(
            (image_forms.folder / "circle" / "img_00.png").read_bytes()
        )
    (image_forms.folder / "square" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    converted, arrays = _convert(tmp_path, DataSourceSpec(path=image_forms.folder), GREY)
    assert converted.source["skipped"] == 1 and converted.source["skipped_first"] == ["square/broken.png"]
    assert len(arrays["x"]) == 42


def test_many_corrupt_images_are_refused(image_forms, tmp_path):
    for i in range(3):
        (image_forms.folder / "square" / f"broken{i}.png").write_bytes(b"garbage")
    with pytest.raises(
        AnalysisInputError, match=r"more than 5% of 15 images cannot be read, e\.g\. square/broken0\.png"
    ):
        _convert(tmp_path, DataSourceSpec(path=image_forms.folder), GREY)
    assert not list((tmp_path / "converted").glob("*.npz"))  # nothing half-written


@pytest.mark.parametrize(
    ("make", "policy", "message"),
    [
        (
            lambda t, f: f.folder,
            ConversionPolicy(shape=(SIZE, SIZE, 1), n_classes=2),
            r"outside the model's 2 classes \(0-1\): \['triangle'\]",
        ),
        (lambda t, f: (t / "empty").mkdir() or t / "empty", GREY, r"holds no images \(no subfolders\)"),
        (lambda t, f: f.folder, ConversionPolicy(shape=(4,)), r"needs a model that takes images .* takes \[4\]"),
    ],
    ids=["labels outside the classes", "empty folder", "table model"],
)
def test_bad_image_folders(image_forms, tmp_path, make, policy, message):
    with pytest.raises(AnalysisInputError, match=message):
        _convert(tmp_path, DataSourceSpec(path=make(tmp_path, image_forms)), policy)


def test_bad_tables(table_forms, tmp_path):
    import pandas as pd

    with pytest.raises(AnalysisInputError, match=r"has no metadata column 'race'; its columns are \['age'"):
        _convert(tmp_path, DataSourceSpec(path=table_forms.csv, meta=("race",)), TABULAR)
    with pytest.raises(AnalysisInputError, match=r"feature columns must be numeric; sex \((large_)?string\) are not"):
        _convert(tmp_path, DataSourceSpec(path=table_forms.parquet, features="age,sex"), TABULAR)
    with pytest.raises(AnalysisInputError, match=r"gives 5 feature columns \(age, income, sex_code, hours, debt\)"):
        frame = pd.read_csv(table_forms.csv).assign(sex_code=lambda f: (f.sex == "f").astype(int))
        frame = frame[["age", "income", "sex_code", "label", "sex", "hours", "debt"]]
        frame.to_csv(tmp_path / "five.csv", index=False)
        _convert(tmp_path, DataSourceSpec(path=tmp_path / "five.csv", meta="sex"), TABULAR)
    frame = pd.read_parquet(table_forms.parquet)
    frame.loc[200, "income"] = np.nan
    frame.to_parquet(tmp_path / "nan.parquet")
    with pytest.raises(
        AnalysisInputError,
        match=r"feature column 'income' has missing, NaN or infinite values \(first at data row 201\)",
    ):
        _convert(tmp_path, DataSourceSpec(path=tmp_path / "nan.parquet", meta="sex"), TABULAR)
    frame = pd.read_parquet(table_forms.parquet).assign(label=lambda f: f.label + 1)
    frame.to_parquet(tmp_path / "three.parquet")
    with pytest.raises(AnalysisInputError, match=r"outside the model's 2 classes \(0-1\): \[2\]"):
        _convert(tmp_path, DataSourceSpec(path=tmp_path / "three.parquet", meta="sex"), TABULAR)
    text = table_forms.csv.read_text().splitlines()
    text[250] = text[250].replace(text[250].split(",")[1], "n/a", 1)
    (tmp_path / "text.csv").write_text("\n".join(text))
    with pytest.raises(AnalysisInputError, match=r"text\.csv"):
        _convert(tmp_path, DataSourceSpec(path=tmp_path / "text.csv", meta="sex"), TABULAR)


def test_missing_labels_csv_entries(image_forms, tmp_path):
    (image_forms.flat / "labels.csv").write_text("file,label\nnope.png,circle\n")
    with pytest.raises(AnalysisInputError, match=r"line 2 names 'nope\.png', which is not a file"):
        _convert(tmp_path, DataSourceSpec(path=image_forms.flat), GREY)
    (image_forms.flat / "labels.csv").write_text("name,label\n")
    with pytest.raises(AnalysisInputError, match=r"has no column 'file'; its columns are \['name', 'label'\]"):
        _convert(tmp_path, DataSourceSpec(path=image_forms.flat), GREY)


def test_iterator_is_lazy(image_forms):
    batches = iter_batches(DataSourceSpec(path=image_forms.folder), GREY)
    first = next(batches)
    assert len(first.x) == 12 and first.names[0] == "circle/img_00.png"
