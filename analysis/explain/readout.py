"""Target models: a Keras model from the input to the one scalar being explained (imports Keras).

A class target reads one column of the model's output (for a single sigmoid unit, class 1 is
the output ``p`` and class 0 is ``1 - p``); a unit target reads one channel of a layer and
averages it over spatial positions (the Microscope's channel mean). The readout is a real
layer at the end of the model, so shap's TensorFlow code, which looks at ``model.layers[-1]``,
finds an output of shape ``[batch, 1]``.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from analysis.explain.spec import Target, TargetKind
from analysis.models.activations import read_outputs

BATCH_SIZE = 4096

# Target models per source model, kept as long as it lives: the compiled forward pass is cached
# per model object (analysis.models.activations), so a new target model would trace it again.
_TARGET_MODELS: weakref.WeakKeyDictionary[Any, dict[tuple, Any]] = weakref.WeakKeyDictionary()
_TARGET_MODELS_LOCK = threading.Lock()


def _readout_layer_class() -> type:
    import keras

    class ScalarReadout(keras.layers.Layer):
        """``[batch, ..., channels]`` -> ``[batch, 1]``: channel ``index`` averaged over positions."""

        def __init__(self, index: int, complement: bool = False, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.index = int(index)
            self.complement = bool(complement)

        def call(self, x: Any) -> Any:
            selected = x[..., self.index : self.index + 1]
            axes = tuple(range(1, len(x.shape) - 1))
            value = keras.ops.mean(selected, axis=axes) if axes else selected
            return 1.0 - value if self.complement else value

    return ScalarReadout


def build_target_model(model: Any, target: Target, *, class_index: int | None, binary_probability: bool) -> Any:
    """A ``keras.Model`` with ``model``'s input and a ``[batch, 1]`` output: the target's value.

    ``class_index`` is the resolved class (for ``predicted`` targets, one class at a time).
    Built once per (model, target, class) and reused while ``model`` lives.
    """
    key = (target, None if target.kind is TargetKind.UNIT else class_index, binary_probability)
    with _TARGET_MODELS_LOCK:
        found = _TARGET_MODELS.setdefault(model, {}).get(key)
    if found is not None:
        return found
    built = _build_target_model(model, target, class_index=class_index, binary_probability=binary_probability)
    with _TARGET_MODELS_LOCK:
        return _TARGET_MODELS.setdefault(model, {}).setdefault(key, built)


def _build_target_model(model: Any, target: Target, *, class_index: int | None, binary_probability: bool) -> Any:
    import keras

    readout = _readout_layer_class()
    if target.kind is TargetKind.UNIT:
        layer_output = model.get_layer(target.layer).output
        return keras.Model(model.inputs, readout(target.unit, name="explained_unit")(layer_output))
    if binary_probability:
        head = readout(0, complement=class_index == 0, name="explained_class")
    else:
        head = readout(int(class_index), name="explained_class")
    return keras.Model(model.inputs, head(model.outputs[0]))


def batched_predict(model: Any) -> Callable[[np.ndarray], np.ndarray]:
    """``f(x) -> float64 [n]``: the model's first output column, in batches, compiled once per model."""

    def predict(x: np.ndarray) -> np.ndarray:
        out = read_outputs(model, np.asarray(x, dtype=np.float32), batch_size=BATCH_SIZE)
        return out.reshape(len(x), -1)[:, 0].astype(np.float64)

    return predict


def predicted_classes(model: Any, x: np.ndarray, *, binary_probability: bool) -> np.ndarray:
    """int64 ``[n]``: the class each row of ``x`` is predicted as (argmax, or ``p >= 0.5`` for a sigmoid)."""
    out = read_outputs(model, np.asarray(x, dtype=np.float32), batch_size=BATCH_SIZE).reshape(len(x), -1)
    if binary_probability:
        return (out[:, 0] >= 0.5).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)
