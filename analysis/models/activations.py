"""The one activation extractor: a model cut at named layers, read in batches (imports TensorFlow).

Every capability that reads what a layer computes goes through here: the Microscope's dataset
examples, feature visualization (whose lucid warm start wraps :func:`layer_outputs`),
explanations' batched predictions, and later circuits. Keras functional and sequential models
are cut with a sub-model ``keras.Model(model.inputs, {name: layer.output})``; frozen GraphDefs
(``GraphDefModel``) are pruned to the ops the layers need.

The compiled forward pass of a (model, layers, example shape) is built once and kept as long as
the model object lives, with an input signature whose batch size is open: it traces once, on
its first call, and never again for another batch size (the last, smaller batch of a pass, or
a caller's different number of rows), so a server answering many pages does not retrace.
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
_COMPILED: weakref.WeakKeyDictionary[Any, dict[tuple[tuple[str, ...], tuple[int, ...]], Any]] = (
    weakref.WeakKeyDictionary()
)
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


class _Forward:
    """A cut model as a callable object, so each compiled pass keeps its own tracing statistics.

    TensorFlow's retracing warning counts traces per code object: the passes of different models
    and layers, each traced once, would all count as retraces of the one ``cut`` function.
    """

    def __init__(self, cut: LayerOutputs) -> None:
        self.cut = cut

    def __call__(self, inputs: Any) -> dict[str, Any]:
        return self.cut(inputs)


def _compiled(model: Any, key: tuple[str, ...], example_shape: tuple[int, ...]) -> Any:
    """The forward pass of ``key`` for float32 ``[any batch, *example_shape]``: traced once, then reused."""
    import tensorflow as tf

    with _LOCK:
        found = _COMPILED.setdefault(model, {}).get((key, example_shape))
    if found is not None:
        return found
    cut = layer_outputs(model, key)
    signature = [tf.TensorSpec([None, *example_shape], tf.float32)]
    compiled = tf.function(_Forward(cut), input_signature=signature)
    with _LOCK:
        return _COMPILED.setdefault(model, {}).setdefault((key, example_shape), compiled)


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

    forward = _compiled(model, tuple(layer_names), tuple(int(d) for d in np.shape(x)[1:]))
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
