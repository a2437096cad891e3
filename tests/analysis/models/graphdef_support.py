"""A tiny frozen GraphDef named like lucid's inception5h, built and frozen by the tests themselves."""

from __future__ import annotations

from pathlib import Path

import numpy as np

SIZE = 16  # the tiny graph's input side in pixels


def tiny_graph_weights(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "w0": rng.normal(0.0, 0.4, (3, 3, 3, 4)).astype(np.float32),
        "b0": rng.normal(0.0, 0.1, (4,)).astype(np.float32),
        "w3x3": rng.normal(0.0, 0.4, (3, 3, 4, 3)).astype(np.float32),
        "w1x1": rng.normal(0.0, 0.4, (1, 1, 4, 2)).astype(np.float32),
        "head": rng.normal(0.0, 0.4, (5, 6)).astype(np.float32),
    }


def reference_layers(weights: dict[str, np.ndarray], images: np.ndarray) -> dict[str, np.ndarray]:
    """The tiny graph's layers computed independently with ``tf.nn`` on ``images`` ``[n, h, w, 3]``."""
    import tensorflow as tf

    conv2d0 = tf.nn.relu(tf.nn.conv2d(images, weights["w0"], 1, "SAME") + weights["b0"])
    branch3 = tf.nn.relu(tf.nn.conv2d(conv2d0, weights["w3x3"], 1, "SAME"))
    branch1 = tf.nn.relu(tf.nn.conv2d(conv2d0, weights["w1x1"], 1, "SAME"))
    mixed3a = tf.concat([branch3, branch1], axis=3)
    return {
        "conv2d0": conv2d0.numpy(),
        "mixed3a": mixed3a.numpy(),
        "softmax0": tf.nn.softmax(tf.reduce_mean(mixed3a, axis=[1, 2]) @ weights["head"]).numpy(),
    }


def write_tiny_graphdef(
    path: Path, *, seed: int = 0, placeholder: str = "input", size: int | None = None, python_op: bool = False
) -> Path:
    """Freeze a ``tf.function`` (conv2d0 -> two branches -> mixed3a concat -> softmax0) to ``path``.

    The input placeholder is ``[None, size, size, 3]`` (``size=None``: any size), named ``placeholder``.
    ``python_op`` adds a ``tf.numpy_function`` (a PyFunc op) to the graph.
    """
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    weights = {name: tf.Variable(value) for name, value in tiny_graph_weights(seed).items()}

    @tf.function(input_signature=[tf.TensorSpec([None, size, size, 3], tf.float32, name=placeholder)])
    def network(images: tf.Tensor) -> tf.Tensor:
        conv = tf.nn.bias_add(tf.nn.conv2d(images, weights["w0"], 1, "SAME"), weights["b0"], name="conv2d0_pre_relu")
        conv2d0 = tf.nn.relu(conv, name="conv2d0")
        branch3 = tf.nn.relu(tf.nn.conv2d(conv2d0, weights["w3x3"], 1, "SAME"), name="mixed3a_3x3")
        branch1 = tf.nn.relu(tf.nn.conv2d(conv2d0, weights["w1x1"], 1, "SAME"), name="mixed3a_1x1")
        mixed3a = tf.concat([branch3, branch1], axis=3, name="mixed3a")
        pooled = tf.reduce_mean(mixed3a, axis=[1, 2])
        if python_op:
            pooled = tf.numpy_function(lambda v: v, [pooled], tf.float32, name="python_identity")
        return tf.nn.softmax(tf.matmul(pooled, weights["head"]), name="softmax0")

    frozen = convert_variables_to_constants_v2(network.get_concrete_function())
    path.write_bytes(frozen.graph.as_graph_def().SerializeToString())
    return path
