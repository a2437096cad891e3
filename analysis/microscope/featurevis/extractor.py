"""The model up to the layers an objective reads, with lucid's redirected-ReLU warm start.

Lucid overrides the gradient of every ``Relu`` op for the first 16 optimisation steps
(``lucid/misc/redirected_relu_grad.py``): where a batch item's whole ReLU gradient is zero,
it lets through the gradient that pushes the pre-activation up, so a unit that is dead on
the starting image still gets a signal. Keras models call ReLU through layer activations,
so the warm-start steps run through a *clone* of the model (the caller's model, possibly
shared by a server's threads, is never touched) whose ReLU activations are replaced by
:func:`redirectable_relu`; a ``tf.Variable`` switches the override on and off. Every other
step, and the final measurement, runs through the model's own layers, where TensorFlow fuses
each convolution with its bias and ReLU (a step about 1.4x faster than through the clone).
The two differ only in the gradient at a pre-activation of exactly 0, which the plain
ReLU blocks and lucid's override lets through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import tensorflow as tf

from analysis.models.activations import LayerOutputs, layer_outputs
from analysis.models.graphdef import WARM_START_NOTE, GraphDefModel

NO_RELU_NOTE = "the model has no plain ReLU activations, so lucid's redirected-ReLU warm start does not apply"


def redirectable_relu(redirect: tf.Variable):
    """A ReLU whose gradient is lucid's redirected gradient while ``redirect`` is true."""

    @tf.custom_gradient
    def relu(x: tf.Tensor):
        def grad(upstream: tf.Tensor) -> tf.Tensor:
            # ``upstream`` is d(loss)/d(output) for a loss being *minimised*: positive pushes x down.
            negative = x < 0.0
            relu_grad = tf.where(negative, tf.zeros_like(upstream), upstream)

            def redirected() -> tf.Tensor:  # computed only while the redirect is on
                # Lucid: where an item's whole ReLU gradient is zero, pass the upstream gradient
                # except where it pushes an already negative x lower, i.e. min(upstream, 0) at x < 0.
                axes = tf.range(1, tf.rank(upstream))
                blocked = tf.logical_not(tf.reduce_any(tf.not_equal(relu_grad, 0.0), axis=axes, keepdims=True))
                return tf.where(tf.logical_and(negative, blocked), tf.minimum(upstream, 0.0), relu_grad)

            return tf.cond(redirect, redirected, lambda: relu_grad)

        return tf.nn.relu(x), grad

    return relu


def _is_plain_relu(function: Any) -> bool:
    import keras

    return function is keras.activations.relu or getattr(function, "__name__", None) == "relu"


@dataclass
class Extractor:
    """``extractor(inputs, warm=...) -> {layer name: activations}``.

    ``forward`` is the model's own forward pass to the layers (the one activation extractor,
    :func:`analysis.models.activations.layer_outputs`); ``warm_forward`` the one whose ReLU
    gradients follow ``redirect`` (the same callable when the model has no separate warm-start path).
    """

    forward: LayerOutputs
    warm_forward: LayerOutputs
    redirect: tf.Variable
    relus_redirected: int
    warm_start_note: str = "the model could not be cloned, so the redirected-ReLU warm start was not applied"

    def __call__(self, inputs: tf.Tensor, *, warm: bool = False) -> dict[str, tf.Tensor]:
        return (self.warm_forward if warm else self.forward)(inputs)


def build_extractor(model: Any, layer_names: Sequence[str]) -> Extractor:
    """An :class:`Extractor` for ``layer_names`` of a Keras ``model`` or a frozen GraphDef.

    Falls back to the model's own layers (no redirected ReLU, ``relus_redirected == 0``) when
    the model cannot be cloned (e.g. a subclassed model).
    """
    import keras

    plain = layer_outputs(model, layer_names)
    if isinstance(model, GraphDefModel):  # a frozen GraphDef redirects its own Relu ops
        return Extractor(
            forward=plain,
            warm_forward=plain,
            redirect=model.redirect,
            relus_redirected=model.relus_redirected,
            warm_start_note=WARM_START_NOTE,
        )
    redirect = tf.Variable(False, trainable=False, name="redirect_relu")
    relu = redirectable_relu(redirect)
    replaced = 0

    def clone_layer(layer: Any) -> Any:
        nonlocal replaced
        clone = layer.__class__.from_config(layer.get_config())
        if hasattr(clone, "activation") and _is_plain_relu(getattr(clone, "activation", None)):
            clone.activation = relu
            replaced += 1
        elif type(clone).__name__ == "ReLU" and _default_relu_layer(clone):
            clone.call = lambda inputs, *args, **kwargs: relu(inputs)
            replaced += 1
        return clone

    try:
        clone = keras.models.clone_model(model, clone_function=clone_layer)
        clone.set_weights(model.get_weights())
    except (TypeError, ValueError, NotImplementedError, AttributeError):
        return Extractor(forward=plain, warm_forward=plain, redirect=redirect, relus_redirected=0)
    if not replaced:
        return Extractor(
            forward=plain, warm_forward=plain, redirect=redirect, relus_redirected=0, warm_start_note=NO_RELU_NOTE
        )
    return Extractor(
        forward=plain, warm_forward=layer_outputs(clone, layer_names), redirect=redirect, relus_redirected=replaced
    )


def _default_relu_layer(layer: Any) -> bool:
    config = layer.get_config()
    return config.get("max_value") is None and not config.get("negative_slope") and not config.get("threshold")
