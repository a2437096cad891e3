"""Fabricate full-model ``.h5`` files as Keras 2.x wrote them (``keras_version`` 2.0.5, a ``Model`` config
with ``batch_input_shape``, list-style ``inbound_nodes``, weights named ``layer/kernel:0``).

Nothing here can be downloaded: the test builds the network with today's Keras (for its weights),
saves it as HDF5, then rewrites the file's config and weight names into the Keras 2 layout. The
network has what such models hold: BatchNormalization, SeparableConv2D, a residual Add and
Activation layers, on grey-scale inputs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ZEROS = {"class_name": "Zeros", "config": {}}
ONES = {"class_name": "Ones", "config": {}}
GLOROT = {
    "class_name": "VarianceScaling",
    "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None},
}
NO_REGULARISERS = {
    "kernel_regularizer": None,
    "bias_regularizer": None,
    "activity_regularizer": None,
    "kernel_constraint": None,
    "bias_constraint": None,
}


def _conv(name: str, filters: int, separable: bool = False) -> dict:
    config = {
        "name": name,
        "trainable": True,
        "filters": filters,
        "kernel_size": [3, 3],
        "strides": [1, 1],
        "padding": "same",
        "data_format": "channels_last",
        "dilation_rate": [1, 1],
        "activation": "linear",
        "use_bias": True,
        "bias_initializer": ZEROS,
        **NO_REGULARISERS,
    }
    if separable:  # Keras 2's SeparableConv2D.get_config drops the kernel_* entries
        del config["kernel_regularizer"], config["kernel_constraint"]
        config |= {
            "depth_multiplier": 1,
            "depthwise_initializer": GLOROT,
            "pointwise_initializer": GLOROT,
            "depthwise_regularizer": None,
            "pointwise_regularizer": None,
            "depthwise_constraint": None,
            "pointwise_constraint": None,
        }
    else:
        config["kernel_initializer"] = GLOROT
    return config


def _bn(name: str) -> dict:
    return {
        "name": name,
        "trainable": True,
        "axis": -1,
        "momentum": 0.99,
        "epsilon": 0.001,
        "center": True,
        "scale": True,
        "beta_initializer": ZEROS,
        "gamma_initializer": ONES,
        "moving_mean_initializer": ZEROS,
        "moving_variance_initializer": ONES,
        "beta_regularizer": None,
        "gamma_regularizer": None,
        "beta_constraint": None,
        "gamma_constraint": None,
    }


def _layer(class_name: str, config: dict, *inputs: str) -> dict:
    return {
        "name": config["name"],
        "class_name": class_name,
        "config": config,
        "inbound_nodes": [[[name, 0, 0, {}] for name in inputs]] if inputs else [],
    }


def keras2_config(size: int, channels: int, classes: int) -> dict:
    """The ``model_config`` Keras 2.0.5 wrote for :func:`build_network`'s architecture."""
    layers = [
        _layer(
            "InputLayer",
            {"batch_input_shape": [None, size, size, channels], "dtype": "float32", "sparse": False, "name": "input_1"},
        ),
        _layer("Conv2D", _conv("conv1", 4), "input_1"),
        _layer("BatchNormalization", _bn("bn1"), "conv1"),
        _layer("Activation", {"name": "act1", "trainable": True, "activation": "relu"}, "bn1"),
        _layer("SeparableConv2D", _conv("sep1", 4, separable=True), "act1"),
        _layer("BatchNormalization", _bn("bn2"), "sep1"),
        _layer("Add", {"name": "add1", "trainable": True}, "act1", "bn2"),
        _layer("Activation", {"name": "act2", "trainable": True, "activation": "tanh"}, "add1"),
        _layer("GlobalAveragePooling2D", {"name": "gap", "trainable": True, "data_format": "channels_last"}, "act2"),
        _layer(
            "Dense",
            {
                "name": "predictions",
                "trainable": True,
                "units": classes,
                "activation": "softmax",
                "use_bias": True,
                "kernel_initializer": GLOROT,
                "bias_initializer": ZEROS,
                **NO_REGULARISERS,
            },
            "gap",
        ),
    ]
    return {
        "class_name": "Model",
        "config": {
            "name": "model_1",
            "layers": layers,
            "input_layers": [["input_1", 0, 0]],
            "output_layers": [["predictions", 0, 0]],
        },
    }


def build_network(size: int = 16, channels: int = 1, classes: int = 3, seed: int = 0):
    """Today's Keras network with the same layers and names (its weights go into the Keras 2 file)."""
    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, channels), name="input_1")
    x = layers.Conv2D(4, 3, padding="same", name="conv1")(inputs)
    x = layers.Activation("relu", name="act1")(layers.BatchNormalization(name="bn1")(x))
    y = layers.BatchNormalization(name="bn2")(layers.SeparableConv2D(4, 3, padding="same", name="sep1")(x))
    x = layers.Activation("tanh", name="act2")(layers.Add(name="add1")([x, y]))
    outputs = layers.Dense(classes, activation="softmax", name="predictions")(
        layers.GlobalAveragePooling2D(name="gap")(x)
    )
    model = keras.Model(inputs, outputs, name="model_1")
    # non-trivial BatchNormalization statistics, as a trained model has
    rng = np.random.default_rng(seed)
    for name in ("bn1", "bn2"):
        gamma, beta, mean, variance = model.get_layer(name).get_weights()
        model.get_layer(name).set_weights(
            [gamma * 1.5, beta - 0.2, mean + rng.normal(0, 0.1, mean.shape), variance * 2.0]
        )
    return model


def write_keras2_h5(path: Path, *, size: int = 16, channels: int = 1, classes: int = 3, seed: int = 0):
    """Write a Keras-2.0.5-style full-model ``.h5`` at ``path``; returns today's equivalent model (the reference)."""
    import h5py

    model = build_network(size, channels, classes, seed)
    model.save(path)
    with h5py.File(path, "r+") as handle:
        handle.attrs["keras_version"] = b"2.0.5"
        handle.attrs["backend"] = b"tensorflow"
        handle.attrs["model_config"] = json.dumps(keras2_config(size, channels, classes)).encode()
        weights = handle["model_weights"]
        if "top_level_model_weights" in weights:
            del weights["top_level_model_weights"]
        weights.attrs["layer_names"] = np.array([n.encode() for n in [layer.name for layer in model.layers]])
        weights.attrs["keras_version"] = b"2.0.5"
        weights.attrs["backend"] = b"tensorflow"
        for layer in model.layers:
            group = weights[layer.name]
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("weight_names", [])]
            renamed = []
            for name in names:
                new = f"{name}:0" if not name.endswith(":0") else name
                group.move(name, new)
                renamed.append(new.encode())
            group.attrs["weight_names"] = np.array(renamed, dtype="S")
    return model
