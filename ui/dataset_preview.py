"""The Models page's data half: how to bring a model and data, and what Loupe sees of a linked data set."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from analysis.data_forms.preview import first_examples
from analysis.datasets import DatasetInfo
from analysis.models.summary import ModelSummary
from ui.shared import user_errors
from visualizers.microscope import to_display_image

SHOWN = 8  # first examples shown per data set
THUMB_PX = 96

BRING_YOUR_OWN = """
**Model**: a `.keras` file, a full-model `.h5` saved by Keras 2 or 3 (BatchNormalization, separable convolutions,
residual adds and grey-scale inputs all load), or a SavedModel folder. Loupe infers the input range from a
`Rescaling` layer, else assumes [0, 1]: set it for other models, e.g. `--input-range -1,1`.

**Data**, in any of these forms (nothing to convert by hand):

| form | what Loupe reads |
|---|---|
| `.npz` | `x` (model input), `y` (class indices), optional `split`, `feature_names`, `meta_<column>` |
| image folder | one subfolder per class; classes in sorted (alphanumeric) order are labels 0, 1, … |
| image folder + `labels.csv` | a flat folder and `file,label[,metadata…]` rows (metadata columns are for slicing) |
| `.csv` / `.parquet` table | `label` column, features = every numeric column (or chosen), metadata columns chosen |

Images become the model's input: resized (or centre-cropped) to its size, grey or RGB as it takes, pixels 0–255
mapped to its input range. A file that cannot be read is skipped and counted (more than 5 % refuses the folder).
From the command line: `python -m analysis models add model.h5 --id my-model --data faces/ --input-range -1,1`,
or `--data table.parquet --label outcome --meta sex,age_band`. The exact rules are in the documentation,
*Models beyond the demo* (`docs/models_beyond_demo.md`).
"""


def show_bring_your_own() -> None:
    with st.expander("How to bring your own model and data", icon=":material/upload_file:"):
        st.markdown(BRING_YOUR_OWN)


def _source_line(info: DatasetInfo) -> str:
    source = info.source
    if source is None:
        return f"`{Path(info.path).name}` (an .npz), {info.n_examples:,} examples, sha256 `{info.sha256[:12]}`"
    skipped = source.get("skipped", 0)
    line = (
        f"`{Path(source['path']).name}` ({source['form']}), {info.n_examples:,} examples, source sha256 "
        f"`{source['sha256'][:12]}`; {source['conversion']}."
    )
    if skipped:
        names = ", ".join(f"`{name}`" for name in source["skipped_first"])
        line += f" **{skipped:,} unreadable file{'s' if skipped > 1 else ''} skipped**, e.g. {names}."
    return line


@st.cache_data(max_entries=32, show_spinner=False)
def _first(path: str, sha256: str) -> dict[str, np.ndarray]:
    return first_examples(Path(path), SHOWN)


def show_first_examples(info: DatasetInfo, summary: ModelSummary) -> None:
    """The data set's first examples as the model sees them: thumbnails, or table rows."""
    st.markdown(f"**{info.role.value}**: " + _source_line(info))
    with user_errors():
        arrays = _first(info.path, info.sha256)
    x, y = arrays["x"], arrays.get("y")
    classes = [str(c) for c in arrays.get("class_names", np.array([])).tolist()]

    def label(i: int) -> str:
        if y is None:
            return ""
        index = int(y[i])
        return f"{index} ({classes[index]})" if classes and index < len(classes) else str(index)

    if x.ndim == 4 and x.shape[-1] in (1, 3):
        images, captions = [], []
        for i in range(len(x)):
            image = to_display_image(x[i], summary.input_range)
            scale = max(1, THUMB_PX // max(image.shape[:2]))
            images.append(np.kron(image, np.ones((scale, scale, 1), dtype=np.uint8)))  # sharp pixels, not blur
            captions.append(f"label {label(i)}")
        st.image(images, caption=captions, width=THUMB_PX)
        st.caption(
            f"First {len(x)} examples as the model sees them: {list(x.shape[1:])}, values in "
            f"[{summary.input_range[0]:g}, {summary.input_range[1]:g}] shown as 0–255."
        )
    elif x.ndim == 2:
        names = [str(n) for n in arrays.get("feature_names", np.array([])).tolist()] or [
            f"feature {j}" for j in range(x.shape[1])
        ]
        frame = pd.DataFrame(x, columns=names)
        frame.insert(0, "label", [label(i) for i in range(len(x))])
        for key, values in arrays.items():
            if key.startswith("meta_"):
                frame[key[len("meta_") :]] = values
        st.dataframe(frame, hide_index=True)
        st.caption(f"First {len(x)} rows as the model sees them (features as float32).")
