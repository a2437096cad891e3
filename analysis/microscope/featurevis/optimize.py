"""The optimisation loop: one compiled ``tf.function`` step for a whole batch (imports TensorFlow).

A :class:`BatchOptimizer` holds the spectrum variable ``[2, batch, channels, h, fw]``,
Adam's moments, and the compiled step; it is reused for every batch of the same size.
Item ``i`` of the batch optimises the objective for ``units[i]``; items never interact
(except through an objective that declares ``couples_items``, i.e. diversity groups), so
an item's result does not depend on the rest of the batch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from analysis.microscope.featurevis.extractor import Extractor
from analysis.microscope.featurevis.objectives import Activations, Objective
from analysis.microscope.featurevis.param import rfft2d_freqs, spectrum_to_image
from analysis.microscope.featurevis.transforms import apply_transforms

# Adam as in lucid (tf.train.AdamOptimizer defaults): beta1 0.9, beta2 0.999, epsilon 1e-8.
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPSILON = 1e-8


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchResult:
    """Final images float32 ``[batch, h, w, channels]`` in [0, 1] and per-item objective values ``[batch]``."""

    images: np.ndarray
    values: np.ndarray


class BatchOptimizer:
    """Optimise ``batch`` images at once for ``objective`` through ``extractor``.

    ``images_per_unit`` (k) scales the loss to lucid's: ``-sum(per_item) / k``.
    Not re-entrant: :meth:`run` holds a lock, so one optimizer serves one batch at a time.
    """

    def __init__(
        self,
        *,
        extractor: Extractor,
        objective: Objective,
        batch: int,
        image_hw: tuple[int, int],
        canvas_hw: tuple[int, int],
        channels: int,
        input_range: tuple[float, float],
        learning_rate: float,
        images_per_unit: int = 1,
    ) -> None:
        self.extractor = extractor
        self.objective = objective
        self.batch = batch
        self.image_hw = image_hw
        self.canvas_hw = canvas_hw
        self.channels = channels
        self.low, self.high = (float(v) for v in input_range)
        self.learning_rate = float(learning_rate)
        self.images_per_unit = images_per_unit
        fw = rfft2d_freqs(*image_hw).shape[1]
        shape = (2, batch, channels, image_hw[0], fw)
        self.spectrum = tf.Variable(tf.zeros(shape), name="spectrum")
        self.m = tf.Variable(tf.zeros(shape), trainable=False, name="adam_m")
        self.v = tf.Variable(tf.zeros(shape), trainable=False, name="adam_v")
        self._lock = threading.Lock()
        self.step = tf.function(self._step, reduce_retracing=True)
        self.warm_step = tf.function(self._warm_step, reduce_retracing=True)
        self.evaluate = tf.function(self._evaluate, reduce_retracing=True)

    def image(self) -> tf.Tensor:
        return spectrum_to_image(self.spectrum, *self.image_hw)

    def _model_values(self, canvas: tf.Tensor, units: tf.Tensor, *, warm: bool = False) -> tf.Tensor:
        acts = self.extractor(self.low + canvas * (self.high - self.low), warm=warm)
        return self.objective.per_item(Activations(layers=acts, units=units))

    def _warm_step(self, rows: tf.Tensor, units: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
        """:meth:`_step` through the extractor's warm-start path (redirected ReLU gradients)."""
        return self._step(rows, units, t, warm=True)

    def _step(self, rows: tf.Tensor, units: tf.Tensor, t: tf.Tensor, *, warm: bool = False) -> tf.Tensor:
        """One Adam update from transform ``rows`` ``[batch, 8]``; ``t`` is the 1-based update count."""
        with tf.GradientTape(watch_accessed_variables=False) as tape:
            tape.watch(self.spectrum)
            canvas = apply_transforms(self.image(), rows, self.canvas_hw)
            values = self._model_values(canvas, units, warm=warm)
            loss = -tf.reduce_sum(values) / self.images_per_unit
        grad = tape.gradient(loss, self.spectrum)
        # The kernel behind lucid's tf.train.AdamOptimizer: one fused update of m, v and the spectrum.
        tf.raw_ops.ResourceApplyAdam(
            var=self.spectrum.handle,
            m=self.m.handle,
            v=self.v.handle,
            beta1_power=ADAM_BETA1**t,
            beta2_power=ADAM_BETA2**t,
            lr=tf.constant(self.learning_rate),
            beta1=tf.constant(ADAM_BETA1),
            beta2=tf.constant(ADAM_BETA2),
            epsilon=tf.constant(ADAM_EPSILON),
            grad=grad,
        )
        return values

    def _evaluate(self, units: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        """The image and its per-item values without transforms (resized to the canvas if needed)."""
        image = self.image()
        canvas = image if self.image_hw == self.canvas_hw else tf.image.resize(image, self.canvas_hw)
        return image, self._model_values(canvas, units)

    def run(
        self,
        *,
        initial_spectrum: np.ndarray,
        transforms: np.ndarray,
        units: np.ndarray,
        warm_start_steps: int,
        progress: Callable[[int, int], None] | None = None,
    ) -> BatchResult:
        """Optimise from ``initial_spectrum`` with ``transforms`` ``[steps, batch, 8]``; ``units`` int ``[batch]``."""
        steps = int(transforms.shape[0])
        units_t = tf.constant(units, dtype=tf.int32)
        with self._lock:
            self.spectrum.assign(initial_spectrum)
            self.m.assign(tf.zeros_like(self.m))
            self.v.assign(tf.zeros_like(self.v))
            self.extractor.redirect.assign(warm_start_steps > 0)
            for index in range(steps):
                if index == warm_start_steps:
                    self.extractor.redirect.assign(False)
                step = self.warm_step if index < warm_start_steps else self.step
                step(tf.constant(transforms[index]), units_t, tf.constant(float(index + 1)))
                if progress is not None and ((index + 1) % 16 == 0 or index + 1 == steps):
                    progress(index + 1, steps)
            self.extractor.redirect.assign(False)
            image, values = self.evaluate(units_t)
            return BatchResult(images=image.numpy(), values=values.numpy())
