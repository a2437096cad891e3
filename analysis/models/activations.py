"""The one activation extractor: a model cut at named layers, read in batches (imports TensorFlow).

Every capability that reads what a layer computes goes through here: the Microscope's dataset
examples, feature visualization (whose lucid warm start wraps :func:`layer_outputs`),
explanations' batched predictions, and later circuits. Keras functional and sequential models
are cut with a sub-model ``keras.Model(model.inputs, {name: layer.output})``; frozen GraphDefs
(``GraphDefModel``) are pruned to the ops the layers need.

The compiled forward pass of a (model, layers) pair is built once and kept as long as the model
object lives, so repeated reads (a server answering many pages) do not trace again; the
first call traces for the batch shape, the last, smaller batch relaxes it once
(``reduce_retracing``), and nothing traces after that.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from analysis.models.graphdef import GraphDefModel

DEFAULT_BATCH_SIZE = 128

LayerOutputs = Callable[[Any], dict[str, Any]]  # float32 [n, ...input shape] -> {layer name: [n, ..., units]}

_LOCK = threading.Lock()
_CUT: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], LayerOutputs]] = weakref.WeakKeyDictionary()
_COMPILED: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], Any]] = weakref.WeakKeyDictionary()
OUTPUT = "__output__"  # the name under which :func:`read_outputs` reads the model's own output


def layer_outputs(model: Any, layer_names: Sequence[str]) -> LayerOutputs:
    """``f(inputs) -> {name: activations}`` for ``layer_names`` of ``model`` (eager or inside tf.function).

    ``inputs`` is float32 ``[n, ...input shape]`` in the model's input range. Unknown layer
    names raise Keras' or the GraphDef's own error; callers validate names against the
    model's summary first.
    """
    key = tuple(layer_names)
    with _LOCK:
        cached = _CUT.setdefault(model, {}).get(key)
        if cached is not None:
            return cached
    if isinstance(model, GraphDefModel):
        graph_names = [model.output_name if name == OUTPUT else name for name in key]
        pruned = model.layer_outputs(graph_names)

        def cut(inputs: Any) -> dict[str, Any]:
            outputs = pruned(inputs)
            return {name: outputs[graph_name] for name, graph_name in zip(key, graph_names, strict=True)}

    else:
        import keras

        fetches = {name: (model.outputs[0] if name == OUTPUT else model.get_layer(name).output) for name in key}
        sub_model = keras.Model(model.inputs, fetches)

        def cut(inputs: Any) -> dict[str, Any]:
            return sub_model([inputs], training=False)  # the functional model's input structure is a list

    with _LOCK:
        return _CUT.setdefault(model, {}).setdefault(key, cut)


def _compiled(model: Any, key: tuple[str, ...]) -> Any:
    import tensorflow as tf

    with _LOCK:
        found = _COMPILED.setdefault(model, {}).get(key)
    if found is not None:
        return found
    cut = layer_outputs(model, key)
    compiled = tf.function(cut, reduce_retracing=True)
    with _LOCK:
        return _COMPILED.setdefault(model, {}).setdefault(key, compiled)


def read_activations(
    model: Any,
    layer_names: Sequence[str],
    x: np.ndarray,
    indices: np.ndarray | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """Yield ``(chunk, {name: float32 [len(chunk), ..., units]})`` for ``x[indices]`` in batches.

    ``indices`` int ``[m]`` selects and orders the examples (default: all of ``x``); only one
    batch of inputs and activations is in memory at a time.
    """
    import tensorflow as tf

    forward = _compiled(model, tuple(layer_names))
    order = np.arange(len(x)) if indices is None else np.asarray(indices)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        outputs = forward(tf.constant(np.asarray(x[chunk], dtype=np.float32)))
        yield chunk, {name: np.asarray(value.numpy()) for name, value in outputs.items()}


def read_outputs(model: Any, x: np.ndarray, *, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
    """The model's (first) output for every row of ``x``: float32 ``[n, ...output shape]``, in batches."""
    parts = [acts[OUTPUT] for _, acts in read_activations(model, (OUTPUT,), x, batch_size=batch_size)]
    if parts:
        return np.concatenate(parts)
    return np.zeros((0, *(int(d or 0) for d in model.outputs[0].shape[1:])), np.float32)
