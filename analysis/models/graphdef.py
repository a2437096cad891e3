"""Frozen TF GraphDef models (``.pb``), e.g. lucid's model zoo InceptionV1 (``inception5h``).

A frozen GraphDef is a protobuf holding ops and constant weights, no Python code. Loupe
imports it with ``tf.compat.v1.wrap_function`` + ``import_graph_def``, feeding its input
placeholder from a new ``[batch, height, width, channels]`` float32 placeholder (as lucid
does), and prunes the result into one callable per set of requested tensors.

Layers with units are the graph's ``Relu``/``Relu6``/``Concat``/``ConcatV2`` ops whose output
is a 4-D float tensor, named by their op name (for inception5h: ``conv2d0``..``conv2d2``,
``mixed3a``..``mixed5b`` and their branches such as ``mixed4c_3x3``: exactly Microscope's
layer names without its ``_0`` output suffix). The model output is the graph's last
``Softmax`` op (else its last float sink).

Graphs with ``PyFunc`` ops are refused: they call Python functions that are not in the file.

Lucid's redirected-ReLU warm start works as in lucid itself: the graph is imported under
``gradient_override_map({"Relu": ...})`` with a gradient that a per-model ``tf.Variable``
(:attr:`GraphDefModel.redirect`) switches on for the first optimisation steps.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices
from analysis.models.summary import LayerInfo, ModelFormat, ModelSummary, OutputKind

LAYER_OPS = ("Relu", "Relu6", "Concat", "ConcatV2")
PYTHON_OPS = ("PyFunc", "PyFuncStateless", "EagerPyFunc")
# lucid.modelzoo.vision_models.InceptionV1: input 'input', image_shape [224, 224, 3], image_value_range (-117, 138).
LUCID_INPUT_NAME = "input"
LUCID_MARKER_LAYER = "mixed4c"
LUCID_INPUT_RANGE = (-117.0, 138.0)
LUCID_INPUT_SIZE = 224
DEFAULT_INPUT_SIZE = 224
_SCOPE = "graphdef"
WARM_START_NOTE = "the graph has no Relu ops, so the redirected-ReLU warm start was not applied"
_GRADIENT_NAMES = itertools.count()  # tf.RegisterGradient names are global and cannot be reused


def _register_redirected_relu(redirect: Any) -> str:
    """Register lucid's redirected ReLU gradient (on while ``redirect`` is true) under a new name."""
    import tensorflow as tf

    name = f"LoupeGraphDefRedirectedRelu{next(_GRADIENT_NAMES)}"

    @tf.RegisterGradient(name)
    def _gradient(op: Any, upstream: Any) -> Any:
        # ``upstream`` is d(loss)/d(output) for a loss being minimised: positive pushes x down.
        x = op.inputs[0]
        relu_grad = tf.where(x < 0.0, tf.zeros_like(upstream), upstream)

        def redirected() -> Any:  # computed only while the redirect is on
            redirected = tf.where(tf.logical_and(x < 0.0, upstream > 0.0), tf.zeros_like(upstream), upstream)
            batch = tf.shape(upstream)[0]
            magnitude = tf.norm(tf.reshape(relu_grad, [batch, -1]), axis=1)
            passes = tf.reshape(magnitude > 0.0, tf.concat([[batch], tf.ones([tf.rank(x) - 1], tf.int32)], 0))
            return tf.where(passes, relu_grad, redirected)

        return tf.cond(redirect, redirected, lambda: relu_grad)

    return name


def parse_graphdef(path: Path) -> Any:
    """The ``tf.compat.v1.GraphDef`` in ``path``; AnalysisInputError if it is not one."""
    import tensorflow as tf
    from google.protobuf.message import DecodeError

    path = Path(path)
    if path.name == "saved_model.pb":
        raise AnalysisInputError(f"{str(path)!r} is the graph file of a TF SavedModel; register its folder instead")
    graph_def = tf.compat.v1.GraphDef()
    try:
        graph_def.ParseFromString(path.read_bytes())
    except (DecodeError, RuntimeError, ValueError) as error:
        raise AnalysisInputError(
            f"{str(path)!r} is not a frozen TF GraphDef: it does not parse as one, so it is corrupt, truncated "
            f"or another kind of .pb file ({type(error).__name__}: {error})"
        ) from error
    if not graph_def.node:
        raise AnalysisInputError(f"{str(path)!r} is not a frozen TF GraphDef: it parses to a graph with no ops")
    return graph_def


def check_graphdef_safe(path: Path, graph_def: Any) -> None:
    """Refuse graphs that call Python code (``PyFunc`` ops), in the graph or its function library."""
    nodes = list(graph_def.node) + [n for f in graph_def.library.function for n in f.node_def]
    python = [f"{n.op} op {n.name!r}" for n in nodes if n.op in PYTHON_OPS]
    if python:
        raise AnalysisInputError(
            f"GraphDef {str(path)!r} contains {', '.join(python[:5])}: such ops call Python functions that are not "
            "stored in the file, so Loupe refuses the graph"
        )


def _placeholders(graph_def: Any) -> list[str]:
    return [n.name for n in graph_def.node if n.op == "Placeholder"]


def _is_lucid_inception(graph_def: Any) -> bool:
    names = {n.name for n in graph_def.node}
    return LUCID_INPUT_NAME in _placeholders(graph_def) and LUCID_MARKER_LAYER in names


class GraphDefModel:
    """A frozen GraphDef as a callable: ``layer_outputs(names)(images [n, h, w, c]) -> {name: tensor}``.

    ``input_size`` is the square input side Loupe renders and describes at; the graph itself
    accepts any size its ops allow. Thread-safe: pruned callables are built once per name set.
    ``redirect`` switches the redirected-ReLU gradient of all ``relus_redirected`` Relu ops; it is
    one variable per model, so optimisers sharing a model must not run their warm starts at once.
    """

    def __init__(
        self, path: Path, graph_def: Any, *, input_name: str | None = None, input_size: int | None = None
    ) -> None:
        import tensorflow as tf

        self.path = Path(path)
        self.graph_def = graph_def
        self.lucid_defaults = _is_lucid_inception(graph_def)
        self.input_name = self._choose_input(input_name)
        node = next(n for n in graph_def.node if n.name == self.input_name)
        dims = [d.size for d in node.attr["shape"].shape.dim] if node.attr["shape"].shape.dim else []
        self.channels = int(dims[3]) if len(dims) == 4 and dims[3] > 0 else 3
        known = int(dims[1]) if len(dims) == 4 and dims[1] > 0 and dims[1] == dims[2] else None
        if input_size is not None and (
            isinstance(input_size, bool) or not isinstance(input_size, int) or not 8 <= input_size <= 2048
        ):
            raise AnalysisInputError(f"input size {input_size!r} must be an integer from 8 to 2048 pixels")
        self.input_size_source = "given" if input_size else ("placeholder" if known else "default")
        self.input_size = int(input_size or known or (LUCID_INPUT_SIZE if self.lucid_defaults else DEFAULT_INPUT_SIZE))
        spec = tf.TensorSpec([None, None, None, self.channels], tf.float32)
        self.redirect = tf.Variable(False, trainable=False, name="redirect_relu")
        self.relus_redirected = sum(1 for node in graph_def.node if node.op == "Relu")
        gradient = _register_redirected_relu(self.redirect)

        def imported(images: tf.Tensor) -> None:
            with tf.compat.v1.get_default_graph().gradient_override_map({"Relu": gradient}):
                tf.compat.v1.import_graph_def(graph_def, input_map={f"{self.input_name}:0": images}, name=_SCOPE)

        try:
            self._wrapped = tf.compat.v1.wrap_function(imported, [spec])
        except (ValueError, TypeError, tf.errors.OpError) as error:
            raise AnalysisInputError(
                f"GraphDef {str(self.path)!r} could not be imported: it is corrupt or truncated, or uses ops this "
                f"TensorFlow lacks ({type(error).__name__}: {str(error).splitlines()[0]})"
            ) from error
        self._input = self._wrapped.inputs[0]
        self._functions: dict[tuple[str, ...], Callable] = {}
        self._lock = threading.Lock()
        self.layers = self._discover_layers()
        self.output_name = self._choose_output()

    # -- structure ------------------------------------------------------------------------
    def _choose_input(self, input_name: str | None) -> str:
        placeholders = _placeholders(self.graph_def)
        if input_name is not None:
            if input_name not in placeholders:
                raise AnalysisInputError(
                    f"GraphDef {str(self.path)!r} has no placeholder {input_name!r}; "
                    f"its placeholders are {describe_choices(placeholders)}"
                )
            return input_name
        if self.lucid_defaults:
            return LUCID_INPUT_NAME
        if len(placeholders) == 1:
            return placeholders[0]
        raise AnalysisInputError(
            f"GraphDef {str(self.path)!r} has {len(placeholders)} placeholders; say which one takes the image "
            f"with --input-name: {describe_choices(placeholders)}"
        )

    def _op(self, name: str) -> Any:
        return self._wrapped.graph.get_operation_by_name(f"{_SCOPE}/{name}")

    def _sized_shapes(self) -> dict[str, tuple[int | None, ...]]:
        """Static output shapes (without batch) of every op at ``input_size``, by shape inference."""
        import tensorflow as tf

        graph = tf.Graph()
        with graph.as_default():
            images = tf.compat.v1.placeholder(tf.float32, [None, self.input_size, self.input_size, self.channels])
            tf.compat.v1.import_graph_def(self.graph_def, input_map={f"{self.input_name}:0": images}, name=_SCOPE)
        prefix = f"{_SCOPE}/"
        return {
            op.name[len(prefix) :]: tuple(op.outputs[0].shape.as_list()[1:]) if op.outputs[0].shape.rank else ()
            for op in graph.get_operations()
            if op.name.startswith(prefix) and op.outputs
        }

    def _discover_layers(self) -> tuple[LayerInfo, ...]:
        shapes = self._sized_shapes()
        layers = []
        for node in self.graph_def.node:
            if node.op not in LAYER_OPS:
                continue
            output = self._op(node.name).outputs[0]
            shape = shapes.get(node.name, ())
            if output.dtype.is_floating and output.shape.rank == 4 and len(shape) == 3 and shape[-1]:
                layers.append(
                    LayerInfo(
                        name=node.name,
                        kind=node.op,
                        output_shape=tuple(int(d or 0) for d in shape),
                        units=int(shape[-1]),
                    )
                )
        return tuple(layers)

    def _choose_output(self) -> str:
        nodes = list(self.graph_def.node)
        softmax = [n.name for n in nodes if n.op == "Softmax"]
        if softmax:
            return softmax[-1]
        consumed = {i.split(":")[0].lstrip("^") for n in nodes for i in n.input}
        sinks = [
            n.name
            for n in nodes
            if n.name not in consumed
            and n.op not in ("NoOp", "Const")
            and self._op(n.name).outputs
            and self._op(n.name).outputs[0].dtype.is_floating
        ]
        if not sinks:
            raise AnalysisInputError(f"GraphDef {str(self.path)!r} has no float output op")
        return sinks[-1]

    # -- computing ------------------------------------------------------------------------
    def layer_outputs(self, names: Sequence[str]) -> Callable[[Any], dict[str, Any]]:
        """A callable ``images float32 [n, h, w, c] -> {name: tensor}`` computing only what ``names`` need."""
        import tensorflow as tf

        key = tuple(names)
        with self._lock:
            if key not in self._functions:
                graph = self._wrapped.graph
                fetches = {name: graph.get_tensor_by_name(f"{_SCOPE}/{name}:0") for name in key}
                self._functions[key] = self._wrapped.prune(self._input, fetches)
            pruned = self._functions[key]
        return lambda images: pruned(tf.convert_to_tensor(images, tf.float32))

    def predict(self, x: np.ndarray, *, batch_size: int = 32, verbose: int = 0) -> np.ndarray:
        """The model output for ``x`` ``[n, h, w, c]`` in the model's input range, in batches."""
        forward = self.layer_outputs([self.output_name])
        parts = [forward(x[i : i + batch_size])[self.output_name].numpy() for i in range(0, len(x), batch_size)]
        return np.concatenate(parts)

    # -- describing -----------------------------------------------------------------------
    def parameter_count(self) -> int:
        """Number of float values in the graph's constants (its frozen weights)."""
        import tensorflow as tf

        total = 0
        for node in self.graph_def.node:
            if node.op == "Const" and tf.as_dtype(node.attr["dtype"].type).is_floating:
                total += int(np.prod([d.size for d in node.attr["value"].tensor.tensor_shape.dim], dtype=np.int64))
        return total

    def describe(self) -> ModelSummary:
        """The registry summary: image input at ``input_size``, layers with units, output kind."""
        output = self._op(self.output_name)
        shape = tuple(output.outputs[0].shape.as_list()[1:]) if output.outputs[0].shape.rank else ()
        width = shape[-1] if shape else None
        if output.type == "Softmax":
            kind = OutputKind.PROBABILITIES
        elif output.type == "Sigmoid" and width == 1:
            kind = OutputKind.BINARY_PROBABILITY
        else:
            kind = OutputKind.LOGITS if width and width > 1 else OutputKind.VALUES
        if self.lucid_defaults:
            low_high, source = LUCID_INPUT_RANGE, "lucid's InceptionV1 (inception5h) image_value_range (-117, 138)"
        else:
            low_high, source = (0.0, 1.0), "default [0, 1] (a GraphDef has no Rescaling layer; pass --input-range)"
        notes = [
            f"frozen GraphDef: layers are its {'/'.join(LAYER_OPS)} ops; input placeholder {self.input_name!r}, "
            f"output op {self.output_name!r}; unit-level analyses only (privacy, fairness and explanations "
            "need a Keras model)"
        ]
        if self.input_size_source == "default":
            notes.append(f"input size {self.input_size} assumed (the graph accepts any size; set it with --input-size)")
        return ModelSummary(
            format=ModelFormat.GRAPHDEF,
            input_shape=(self.input_size, self.input_size, self.channels),
            input_range=(float(low_high[0]), float(low_high[1])),
            input_range_source=source,
            output_shape=tuple(int(d) if d else None for d in shape),
            output_kind=kind,
            parameter_count=self.parameter_count(),
            layers=self.layers,
            notes=tuple(notes),
            input_name=self.input_name,
        )


def load_graphdef(path: Path, *, input_name: str | None = None, input_size: int | None = None) -> GraphDefModel:
    """Parse, check and import the frozen GraphDef at ``path``; every failure is an AnalysisInputError."""
    graph_def = parse_graphdef(path)
    check_graphdef_safe(path, graph_def)
    return GraphDefModel(path, graph_def, input_name=input_name, input_size=input_size)
