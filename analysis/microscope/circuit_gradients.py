"""The TensorFlow half of circuits: gradients of one layer's units with respect to an earlier layer's.

Keras models and frozen GraphDefs both: a GraphDef is linearised by rewriting its ops (ReLU-like
ops become identities, ``MaxPool`` becomes ``AvgPool``; a frozen ``FusedBatchNorm`` is already its
inference affine map) and cut by mapping the source layer's tensor (:class:`GraphCut`).

A Keras functional (or sequential) model is cloned with its weights; for expanded weights the
clone is *linearised*: every activation (a layer's ``activation=`` and ReLU/Activation layers)
becomes the identity, max pooling becomes average pooling of the same window and stride, and
batch normalisation stays what it is at inference, an affine map. The source layer's output is
the free variable: when every path from the input to the target passes through the source (a
clean cut) a sub-model ``source output -> target output`` is differentiated directly; otherwise
(a skip connection that bypasses the source) a probe after the source layer adds a zero tensor
``delta`` to its output, and the gradient with respect to ``delta`` is the gradient with respect
to the source activations.

Rows of one pass are (input, target unit) pairs, so one backward pass gives the gradient of many
target units at once (a batched Jacobian); callers chunk the rows to bound memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices

_POOLS = {
    "MaxPooling1D": "AveragePooling1D",
    "MaxPooling2D": "AveragePooling2D",
    "MaxPooling3D": "AveragePooling3D",
    "GlobalMaxPooling1D": "GlobalAveragePooling1D",
    "GlobalMaxPooling2D": "GlobalAveragePooling2D",
    "GlobalMaxPooling3D": "GlobalAveragePooling3D",
}
_ACTIVATION_LAYERS = ("ReLU", "LeakyReLU", "ELU", "PReLU", "Softmax", "Activation", "ThresholdedReLU")


class _Slot:
    """What the probe adds (``delta``) and what it saw (``seen``): plain Python, not tracked by Keras."""

    def __init__(self) -> None:
        self.delta: Any = None
        self.seen: Any = None


def _probe_layer(slot: _Slot, name: str) -> Any:
    import keras

    class Probe(keras.layers.Layer):
        def call(self, x: Any) -> Any:
            if slot.delta is None:
                return x
            slot.seen = x
            return x + slot.delta

        def compute_output_shape(self, shape: Any) -> Any:
            return shape

    return Probe(name=name)


def ancestors(model: Any, name: str) -> set[str]:
    """Names of every layer whose output reaches layer ``name`` of a Keras functional model."""
    seen: set[str] = set()
    stack = [model.get_layer(name)]
    while stack:
        layer = stack.pop()
        for node in getattr(layer, "_inbound_nodes", ()):
            for tensor in node.input_tensors:
                parent = tensor._keras_history.operation
                if parent.name not in seen:
                    seen.add(parent.name)
                    stack.append(parent)
    return seen


class LayerCut:
    """The target layer as a function of the source layer's activations (linearised or not)."""

    def __init__(self, model: Any, source: str, target: str, *, linearise: bool) -> None:
        import keras

        if isinstance(model, keras.Sequential):
            model = keras.Model(model.inputs, model.outputs)
        self.slot = _Slot()
        probe = _probe_layer(self.slot, f"loupe_probe_{source}")

        def clone_layer(layer: Any) -> Any:
            config = layer.get_config()
            kind = type(layer).__name__
            if linearise and kind in _POOLS:
                return getattr(keras.layers, _POOLS[kind]).from_config(config)
            if linearise and kind in _ACTIVATION_LAYERS:
                return keras.layers.Identity(name=layer.name)
            if linearise and "activation" in config:
                config["activation"] = "linear"
            return type(layer).from_config(config)

        def call_layer(layer: Any, *args: Any, **kwargs: Any) -> Any:
            output = layer(*args, **kwargs)
            return probe(output) if layer.name == source else output

        clone = keras.models.clone_model(model, clone_function=clone_layer, call_function=call_layer)
        for layer in model.layers:
            weights = layer.get_weights()
            if weights:
                clone.get_layer(layer.name).set_weights(weights)
        self.source_shape = tuple(int(d) for d in probe.output.shape[1:])
        self.target_shape = tuple(int(d) for d in clone.get_layer(target).output.shape[1:])
        try:  # a clean cut: the target depends on the input only through the source
            self.sub_model = keras.Model(probe.output, clone.get_layer(target).output)
            self.full_model = None
        except ValueError:
            self.sub_model = None
            self.full_model = keras.Model(clone.inputs, clone.get_layer(target).output)
        self.input_shape = tuple(int(d or 1) for d in model.inputs[0].shape[1:])

    @property
    def clean(self) -> bool:
        return self.sub_model is not None

    def gradients(
        self, targets: np.ndarray, *, source: np.ndarray | None = None, inputs: np.ndarray | None = None, centre: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per row r: d(target unit ``targets[r]``)/d(source activations) and the activations themselves.

        The target unit is read at the centre position (``centre=True``) or as its spatial mean.
        On a clean cut the source activations ``source`` ``[rows, *source_shape]`` are the
        variable; otherwise ``inputs`` ``[rows, *input_shape]`` are fed and the probe's delta
        is. Both float32 ``[rows, *source_shape]``.
        """
        import tensorflow as tf

        rows = len(targets)
        mask = tf.one_hot(np.asarray(targets, np.int32), self.target_shape[-1])
        with tf.GradientTape() as tape:
            if self.clean:
                free = tf.constant(np.asarray(source, np.float32))
                tape.watch(free)
                output = self.sub_model(free, training=False)
                seen = free
            else:
                free = tf.zeros([rows, *self.source_shape])
                tape.watch(free)
                self.slot.delta = free
                try:
                    output = self.full_model(tf.constant(np.asarray(inputs, np.float32)), training=False)
                    seen = self.slot.seen
                finally:
                    self.slot.delta = None
            if len(self.target_shape) > 1:
                if centre:
                    output = output[(slice(None), *(d // 2 for d in self.target_shape[:-1]))]
                else:
                    output = tf.reduce_mean(output, axis=list(range(1, len(self.target_shape))))
            objective = tf.reduce_sum(output * mask)
        return tape.gradient(objective, free).numpy(), np.asarray(seen)


_GRAPH_LINEAR = {"Relu": "Identity", "Relu6": "Identity", "LeakyRelu": "Identity", "Elu": "Identity"}
_GRAPH_POOLS = {"MaxPool": "AvgPool"}


def linearised_graph_def(graph_def: Any) -> Any:
    """A copy of a frozen GraphDef with ReLU-like ops as identities and max pooling as average pooling."""
    import tensorflow as tf

    copy = tf.compat.v1.GraphDef()
    copy.CopyFrom(graph_def)
    for node in copy.node:
        if node.op in _GRAPH_LINEAR:
            node.op = _GRAPH_LINEAR[node.op]
            for attribute in [a for a in node.attr if a != "T"]:  # LeakyRelu's alpha
                del node.attr[attribute]
        elif node.op in _GRAPH_POOLS:
            node.op = _GRAPH_POOLS[node.op]  # same ksize, strides, padding and data_format attributes
    return copy


def graph_ancestors(graph_def: Any, name: str) -> set[str]:
    """Names of every op whose output reaches op ``name`` of a GraphDef (control inputs included)."""
    inputs = {node.name: [i.split(":")[0].lstrip("^") for i in node.input] for node in graph_def.node}
    seen: set[str] = set()
    stack = [name]
    while stack:
        for parent in inputs.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


class GraphCut:
    """:class:`LayerCut` for a frozen GraphDef (:class:`analysis.models.graphdef.GraphDefModel`).

    The (linearised) graph is imported again with two inputs mapped: the image placeholder and
    the source layer's output tensor. Everything after the source reads the mapped tensor, so the
    gradient with respect to it is the gradient with respect to the source activations, through
    any skip path that bypasses the source as well (those read the image). Both are always fed:
    zeros for expanded weights, the image and its source activations (computed by the one
    activation extractor on the unmodified graph) for attribution.
    """

    clean = False

    def __init__(self, model: Any, source: str, target: str, *, linearise: bool) -> None:
        import tensorflow as tf

        shapes = {layer.name: tuple(int(d) for d in layer.output_shape) for layer in model.layers}
        self.source_shape, self.target_shape = shapes[source], shapes[target]
        self.input_shape = (model.input_size, model.input_size, model.channels)
        graph_def = linearised_graph_def(model.graph_def) if linearise else model.graph_def
        specs = [
            tf.TensorSpec([None, None, None, model.channels], tf.float32),
            tf.TensorSpec([None, *self.source_shape], tf.float32),
        ]

        def imported(images: Any, source_value: Any) -> None:
            tf.compat.v1.import_graph_def(
                graph_def,
                input_map={f"{model.input_name}:0": images, f"{source}:0": source_value},
                name="cut",
            )

        wrapped = tf.compat.v1.wrap_function(imported, specs)
        self._forward = wrapped.prune(list(wrapped.inputs), wrapped.graph.get_tensor_by_name(f"cut/{target}:0"))

    def gradients(
        self, targets: np.ndarray, *, source: np.ndarray | None = None, inputs: np.ndarray | None = None, centre: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`LayerCut.gradients`; ``source`` and ``inputs`` are both required."""
        import tensorflow as tf

        mask = tf.one_hot(np.asarray(targets, np.int32), self.target_shape[-1])
        free = tf.constant(np.asarray(source, np.float32))
        with tf.GradientTape() as tape:
            tape.watch(free)
            output = self._forward(tf.constant(np.asarray(inputs, np.float32)), free)
            if centre:
                output = output[(slice(None), *(d // 2 for d in self.target_shape[:-1]))]
            else:
                output = tf.reduce_mean(output, axis=list(range(1, len(self.target_shape))))
            objective = tf.reduce_sum(output * mask)
        return tape.gradient(objective, free).numpy(), np.asarray(source, np.float32)


def _is_graph(model: Any) -> bool:
    from analysis.models.graphdef import GraphDefModel

    return isinstance(model, GraphDefModel)


def _cut(model: Any, source: str, target: str, *, linearise: bool) -> LayerCut | GraphCut:
    kind = GraphCut if _is_graph(model) else LayerCut
    return kind(model, source, target, linearise=linearise)


def _chunks(rows: int, size: int) -> Iterator[slice]:
    for start in range(0, rows, size):
        yield slice(start, min(start + size, rows))


def check_path(model: Any, source: str, target: str, earlier: list[str]) -> None:
    """AnalysisInputError unless ``source`` feeds ``target``; names the earlier layers that do."""
    feeding = graph_ancestors(model.graph_def, target) if _is_graph(model) else ancestors(model, target)
    if source not in feeding:
        valid = [name for name in earlier if name in feeding]
        raise AnalysisInputError(
            f"from {source!r} is not on any path to layer {target!r}; layers with units that feed it are "
            f"{describe_choices(valid)}"
        )


def expanded_weights(model: Any, source: str, target: str, *, batch_size: int) -> np.ndarray:
    """The linearised network's gradient of every target unit (centre position) w.r.t. the source.

    float32 ``[C_target, *source_shape]`` (not cropped yet).
    """
    cut = _cut(model, source, target, linearise=True)
    units = cut.target_shape[-1]
    parts = []
    for rows in _chunks(units, batch_size):
        targets = np.arange(units)[rows]
        zeros_source = np.zeros((len(targets), *cut.source_shape), np.float32)
        zeros_input = np.zeros((len(targets), *cut.input_shape), np.float32)
        gradient, _ = cut.gradients(targets, source=zeros_source, inputs=zeros_input, centre=True)
        parts.append(gradient)
    return np.concatenate(parts)


def attribution(model: Any, source: str, target: str, x: np.ndarray, *, batch_size: int) -> np.ndarray:
    """Mean over ``x`` of gradient x activation, summed over space: float32 ``[C_target, C_source]``.

    The gradient is the real network's (not linearised) of each target unit's spatial mean.
    """
    from analysis.models.activations import read_activations

    cut = _cut(model, source, target, linearise=False)
    units = cut.target_shape[-1]
    source_acts = None
    if cut.clean or isinstance(cut, GraphCut):
        source_acts = np.concatenate([acts[source] for _, acts in read_activations(model, (source,), x)])
    pairs_example = np.repeat(np.arange(len(x)), units)
    pairs_target = np.tile(np.arange(units), len(x))
    total = np.zeros((units, cut.source_shape[-1]), np.float64)
    space = tuple(range(1, len(cut.source_shape)))
    for rows in _chunks(len(pairs_example), max(batch_size, 1)):
        examples, targets = pairs_example[rows], pairs_target[rows]
        gradient, seen = cut.gradients(
            targets,
            source=None if source_acts is None else source_acts[examples],
            inputs=None if cut.clean else x[examples],  # a GraphCut reads both
            centre=False,
        )
        contribution = (gradient * seen).sum(axis=space) if space else gradient * seen
        np.add.at(total, targets, contribution)
    return (total / max(len(x), 1)).astype(np.float32)
