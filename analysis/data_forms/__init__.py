"""Data sets as users have them: image folders, flat folders with a labels CSV, CSV and Parquet tables.

Each form has a reader that streams batches (:class:`Batch`: ``x`` float32 in the model's input
shape and range, ``y``, metadata columns), never the whole data set at once; :func:`convert_dataset`
writes them into one deterministic ``.npz`` beside the registry, which every analysis reads as it
reads a user's own ``.npz``. The policy (class order, resize or centre crop, grey/RGB, range, bad
files) is documented in docs/models_beyond_demo.md.
"""

from analysis.data_forms.convert import ConvertedDataset, convert_dataset, preview_dataset
from analysis.data_forms.spec import (
    CONVERTED_SUFFIXES,
    Batch,
    ConversionPolicy,
    DataForm,
    DataSourceSpec,
    Fit,
    detect_form,
)

__all__ = [
    "CONVERTED_SUFFIXES",
    "Batch",
    "ConversionPolicy",
    "ConvertedDataset",
    "DataForm",
    "DataSourceSpec",
    "Fit",
    "convert_dataset",
    "detect_form",
    "preview_dataset",
]
