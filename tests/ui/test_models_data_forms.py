"""The Models page with data as users have it: an image folder and a table by server path, shown as converted;
a bad table is a readable error and registers nothing."""

from __future__ import annotations

import numpy as np
from streamlit.testing.v1 import AppTest

from analysis.models.registry import ModelRegistry
from tests.analysis.data_forms.conftest import make_image_forms, make_table_forms
from tests.analysis.models.keras2_h5 import write_keras2_h5
from tests.ui.app_support import open_app_page


def _register_by_path(model_id: str, model: str, data: str, meta: str = "") -> AppTest:
    at = open_app_page("ui/pages/models.py", {})
    inputs = {t.label: t for t in at.text_input}
    inputs["Id (a short slug, e.g. my-cnn)"].input(model_id)
    next(t for label, t in inputs.items() if label.startswith("…or a model path")).input(model)
    next(t for label, t in inputs.items() if label.startswith("…or a data path")).input(data)
    inputs["Table: metadata columns (comma-separated, for slicing)"].input(meta)
    at = next(b for b in at.button if b.label == "Register").click().run()
    assert not at.exception
    return at


def test_image_folder_and_table_show_what_loupe_sees_and_a_bad_table_is_refused(loupe_home, tmp_path, monkeypatch):
    import keras

    images, table = make_image_forms(tmp_path), make_table_forms(tmp_path)
    write_keras2_h5(tmp_path / "grey.h5", size=16, channels=1, classes=3)
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")]).save(tmp_path / "tab.keras")
    monkeypatch.setenv("LOUPE_DATA_ROOTS", str(tmp_path))

    at = _register_by_path("grey", "grey.h5", "folder")
    assert not at.error, [e.value for e in at.error]
    assert any(e.label == "How to bring your own model and data" for e in at.expander)
    at = open_app_page("ui/pages/models.py", {"model": "grey"})
    shown = " ".join(m.value for m in at.markdown)
    assert "`folder` (image-folder), 12 examples" in shown and "converted to grey (PIL 'L')" in shown
    assert at.get("image")  # the first examples, as the model sees them
    assert ModelRegistry().get("grey").datasets[0].source["class_names"] == ["circle", "square", "triangle"]

    at = _register_by_path("tab", "tab.keras", "table.csv", meta="race")
    assert "has no metadata column 'race'; its columns are ['age', 'income', 'label', 'sex', 'hours', 'debt']" in (
        at.error[0].value
    )
    assert ModelRegistry().ids() == ["grey"]  # nothing half-registered

    at = _register_by_path("tab", "tab.keras", "table.parquet", meta="sex")
    assert not at.error, [e.value for e in at.error]
    at = open_app_page("ui/pages/models.py", {"model": "tab"})
    frame = next(df.value for df in at.dataframe if "income" in df.value.columns)
    assert list(frame.columns) == ["label", "age", "income", "hours", "debt", "sex"]
    np.testing.assert_allclose(frame[["age", "income", "hours", "debt"]].to_numpy(), table.x[:8], rtol=1e-6)
    assert list(frame["sex"]) == list(table.sex[:8]) and images.npz.is_file()
