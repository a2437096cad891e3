"""DP-SGD for Keras 3: per-example clipping and Gaussian noise in a model's training step.

tensorflow-privacy's DP optimizers subclass ``keras.optimizers.legacy``, which Keras 3 rejects;
here the privacy lives in the training step instead, so any optimizer works::

    dp = DPSGDModel(model, loss="sparse_categorical_crossentropy", l2_norm_clip=1.0,
                    noise_multiplier=1.1, expected_batch_size=64, seed=0)
    dp.compile(optimizer=keras.optimizers.SGD(0.1), metrics=["accuracy"])
    for x_batch, y_batch in poisson_batches(x, y, batch_size=64, epochs=5, seed=0):
        dp.train_on_batch(x_batch, y_batch)
    model.save(...)            # the wrapped model carries the trained weights

One step (Abadi et al. 2016): per-example gradients ``g_i`` of the per-example loss (a Jacobian
over the batch, computed with ``pfor``), each clipped to L2 norm ``C`` over all trainable variables
together, summed, plus noise ``N(0, (sigma * C)^2)`` per coordinate, divided by the expected batch
size ``B`` (the actual size when ``expected_batch_size`` is None, as with fixed-size batches), then
the optimizer's update. The noise comes from a ``tf.random.Generator`` seeded with ``seed``.

Models with batch-statistics layers (BatchNormalization) mix examples in a batch, so their
per-example gradients are not independent: :class:`DPSGDModel` refuses them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from analysis.errors import AnalysisInputError


class DPSGDModel(keras.Model):
    """Wraps ``model`` (functional, sequential or subclassed); ``train_step`` is DP-SGD."""

    def __init__(
        self,
        model: keras.Model,
        *,
        loss: str | keras.losses.Loss,
        l2_norm_clip: float,
        noise_multiplier: float,
        expected_batch_size: int | None = None,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not l2_norm_clip > 0:
            raise AnalysisInputError(f"clipping norm {l2_norm_clip!r} must be positive")
        if not noise_multiplier >= 0:
            raise AnalysisInputError(f"noise multiplier {noise_multiplier!r} must be 0 or more")
        if expected_batch_size is not None and expected_batch_size < 1:
            raise AnalysisInputError(f"expected batch size {expected_batch_size!r} must be at least 1")
        mixing = [layer.name for layer in _all_layers(model) if isinstance(layer, keras.layers.BatchNormalization)]
        if mixing:
            raise AnalysisInputError(
                f"layers {mixing} use batch statistics, which mix examples and break per-example clipping; "
                "use GroupNormalization or LayerNormalization for DP-SGD"
            )
        self.wrapped = model
        self.per_example_loss = keras.losses.get(loss)
        self.l2_norm_clip = float(l2_norm_clip)
        self.noise_multiplier = float(noise_multiplier)
        self.expected_batch_size = expected_batch_size
        self.seed = int(seed)
        self.noise = tf.random.Generator.from_seed(self.seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.wrapped(inputs, training=training)

    def example_losses(self, y: tf.Tensor, predictions: tf.Tensor) -> tf.Tensor:
        """Per-example losses ``[batch]`` (a Loss object's unreduced ``call``, or a plain function)."""
        fn = self.per_example_loss
        losses = fn.call(y, predictions) if isinstance(fn, keras.losses.Loss) else fn(y, predictions)
        return tf.reshape(tf.cast(losses, tf.float32), [tf.shape(predictions)[0], -1])[:, 0]

    def clipped_gradient_sum(self, x: tf.Tensor, y: tf.Tensor) -> tuple[list[tf.Tensor], tf.Tensor]:
        """Sum over the batch of per-example gradients clipped to ``l2_norm_clip``; also the mean loss."""
        variables = self.wrapped.trainable_variables
        with tf.GradientTape() as tape:
            losses = self.example_losses(y, self.wrapped(x, training=True))
        jacobians = tape.jacobian(losses, variables, experimental_use_pfor=True)  # each [batch, *var.shape]
        batch = tf.shape(losses)[0]
        squares = tf.add_n([tf.reduce_sum(tf.reshape(j, [batch, -1]) ** 2, axis=1) for j in jacobians])
        factors = tf.minimum(1.0, self.l2_norm_clip / tf.maximum(tf.sqrt(squares), 1e-12))  # [batch]
        sums = [tf.tensordot(factors, j, axes=1) for j in jacobians]
        return sums, tf.reduce_mean(losses)

    def train_step(self, data: Any) -> dict[str, Any]:
        x, y = data[0], data[1]
        sums, mean_loss = self.clipped_gradient_sum(x, y)
        if self.expected_batch_size is None:
            divisor = tf.cast(tf.shape(x)[0], tf.float32)
        else:
            divisor = tf.constant(float(self.expected_batch_size))
        std = self.noise_multiplier * self.l2_norm_clip
        gradients = [(s + self.noise.normal(tf.shape(s)) * std) / divisor for s in sums]
        self.optimizer.apply(gradients, self.wrapped.trainable_variables)
        self.loss_tracker.update_state(mean_loss)
        logs = dict(self.compute_metrics(x, y, self.wrapped(x, training=False)))
        logs["loss"] = self.loss_tracker.result()  # the mean per-example loss before clipping and noise
        return logs


def _all_layers(model: keras.Model) -> list[keras.layers.Layer]:
    layers = []
    for layer in getattr(model, "layers", []):
        layers.append(layer)
        if isinstance(layer, keras.Model):
            layers += _all_layers(layer)
    return layers


def poisson_batches(
    x: np.ndarray, y: np.ndarray, *, batch_size: int, epochs: float, seed: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Batches as the accounting assumes: each example independently with ``q = batch_size / n``.

    ``ceil(epochs * n / batch_size)`` steps; an empty draw (probability ``(1 - q) ** n``) is skipped.
    """
    n = len(x)
    if len(y) != n:
        raise AnalysisInputError(f"x has {n} examples but y has {len(y)}")
    if not 1 <= batch_size <= n:
        raise AnalysisInputError(f"batch size {batch_size} must be between 1 and the {n} examples")
    rng = np.random.default_rng(seed)
    q = batch_size / n
    for _ in range(int(np.ceil(epochs * n / batch_size))):
        chosen = np.flatnonzero(rng.random(n) < q)
        if chosen.size:
            yield x[chosen], y[chosen]
