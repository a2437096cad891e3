"""``render_units(spec) -> list[UnitRendering]``: feature visualizations, many units per batch, cached.

TensorFlow is imported only when something has to be rendered: a spec whose units are all
cached is served from the result store without loading the model.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError
from analysis.microscope.featurevis.cached import ResolvedRender, read_rendering, resolve_render, write_rendering
from analysis.microscope.featurevis.spec import RenderSpec, UnitRendering
from analysis.microscope.techniques import build_objective
from analysis.models.registry import ModelRegistry
from analysis.models.summary import units_text
from analysis.progress import Progress
from cache import ResultStore

_OPTIMIZERS: OrderedDict[tuple, Any] = OrderedDict()  # compiled steps, reused across calls
_OPTIMIZERS_LOCK = threading.Lock()
_MAX_OPTIMIZERS = 4
# The model never sees a minibatch smaller than 4: oneDNN runs convolutions of minibatch 1 and 2
# with other kernels than minibatches of 3 or more, and their sums round differently. Measured with
# oneDNN's AVX2 kernels (``ONEDNN_MAX_CPU_ISA=AVX2``) on shapes-cnn's conv4 at 512 steps: unit 0
# rendered in batches of 1 and 2 ended 158 and 182 grey levels from the same unit in a batch of
# 32; batches of 3, 4, 5, 6, 7, 8, 12, 16, 17 and 32 gave identical pixels, whatever the unit's
# position and companions. So a small batch is filled up with copies of its first item, whose
# results are dropped (tests/analysis/microscope/test_featurevis_batch_invariance.py).
MIN_MODEL_BATCH = 4


def item_rng(seed: int, unit: int | None, image_index: int) -> np.random.Generator:
    """The random generator of one batch item: its initial spectrum, then its transforms.

    Derived only from ``(seed, unit, image index)``, so an item renders the same whatever
    else shares its batch.
    """
    return np.random.default_rng([int(seed), 0 if unit is None else int(unit) + 1, int(image_index)])


def _optimizer(resolved: ResolvedRender, model: Any, batch: int):
    from analysis.microscope.featurevis.extractor import build_extractor
    from analysis.microscope.featurevis.optimize import BatchOptimizer

    spec = resolved.spec
    key = (
        id(model),
        resolved.revision.revision,
        spec.layer,
        spec.objective,
        spec.direction,
        spec.diversity_images,
        float(spec.diversity_weight),
        spec.example,
        float(spec.caricature_cossim_pow),
        batch,
        resolved.image_hw,
        resolved.canvas_hw,
        float(spec.learning_rate),
    )
    with _OPTIMIZERS_LOCK:
        if key in _OPTIMIZERS:
            _OPTIMIZERS.move_to_end(key)
            return _OPTIMIZERS[key]
    reference = _example_activations(resolved, model) if resolved.example_dataset is not None else None
    objective = build_objective(spec, reference=reference)
    optimizer = BatchOptimizer(
        extractor=build_extractor(model, objective.layers),
        objective=objective,
        batch=batch,
        image_hw=resolved.image_hw,
        canvas_hw=resolved.canvas_hw,
        channels=resolved.channels,
        input_range=resolved.input_range,
        learning_rate=spec.learning_rate,
        images_per_unit=spec.images_per_unit,
    )
    with _OPTIMIZERS_LOCK:
        _OPTIMIZERS[key] = optimizer
        while len(_OPTIMIZERS) > _MAX_OPTIMIZERS:
            _OPTIMIZERS.popitem(last=False)
    return optimizer


def _example_activations(resolved: ResolvedRender, model: Any) -> np.ndarray:
    """The layer's activations on the caricature's example, float32 ``[...layer output shape]``."""
    from pathlib import Path

    from analysis.datasets import load_npz
    from analysis.hashing import sha256_file
    from analysis.models.activations import read_activations

    dataset, example = resolved.example_dataset, resolved.spec.example
    if dataset is None or example is None:
        raise ValueError("only a resolved caricature has an example to read")  # resolve_render sets both
    if sha256_file(Path(dataset.path)) != dataset.sha256:
        raise AnalysisInputError(
            f"the data set {dataset.path!r} linked to {resolved.spec.model_id!r} changed since it was registered; "
            "register it again"
        )
    x = load_npz(Path(dataset.path))["x"]
    ((_, outputs),) = read_activations(model, (resolved.layer.name,), x, np.asarray([example]), batch_size=1)
    return np.asarray(outputs[resolved.layer.name][0], dtype=np.float32)


def _to_uint8(images: np.ndarray) -> np.ndarray:
    """``[k, h, w, c]`` in [0, 1] -> uint8 ``[h, k*w, 3]`` (grey inputs repeated to RGB)."""
    pixels = np.clip(np.round(images * 255.0), 0, 255).astype(np.uint8)
    if pixels.shape[-1] == 1:
        pixels = np.repeat(pixels, 3, axis=-1)
    return np.concatenate(list(pixels), axis=1)


def _render_batch(
    resolved: ResolvedRender,
    model: Any,
    targets: Sequence[int | None],
    report: Callable[..., None] | None,
    example_starts: Callable[[list[int]], ExampleStarts] | None = None,
) -> list[UnitRendering]:
    from analysis.microscope.featurevis.param import initial_spectrum
    from analysis.microscope.featurevis.transforms import draw_transforms

    spec, k = resolved.spec, resolved.spec.images_per_unit
    started = time.perf_counter()
    spectra, transforms, units = [], [], []
    for target in targets:
        for image_index in range(k):
            rng = item_rng(spec.seed, target, image_index)
            spectra.append(initial_spectrum(rng, *resolved.image_hw, channels=resolved.channels))
            transforms.append(draw_transforms(rng, spec.steps, resolved.image_hw, resolved.canvas_hw))
            units.append(0 if target is None else target)
    real = len(units)
    while len(units) < MIN_MODEL_BATCH:  # copies of the first unit's images; their results are dropped
        spectra.extend(spectra[:k])
        transforms.extend(transforms[:k])
        units.extend(units[:k])
    optimizer = _optimizer(resolved, model, len(units))
    result = optimizer.run(
        initial_spectrum=np.stack(spectra, axis=1),
        transforms=np.stack(transforms, axis=1),
        units=np.asarray(units, dtype=np.int32),
        warm_start_steps=spec.warm_start_steps,
        progress=report,
    )
    images, values = result.images[:real], result.values[:real]
    units, transforms = units[:real], transforms[:real]
    base_notes = () if optimizer.extractor.relus_redirected else (optimizer.extractor.warm_start_note,)
    notes: list[tuple[str, ...]] = [base_notes] * len(targets)
    # Exactly 0: the unit never fired on the final image (a negative value is a live linear unit).
    dead = [i for i, value in enumerate(values) if value == 0.0] if spec.restarts_dead_units else []
    if dead and example_starts is not None:
        images, values = images.copy(), values.copy()
        restart_report = None if report is None else (lambda step, steps: report(step, steps, restarting=len(dead)))
        restarted = _restart_from_examples(
            optimizer,
            example_starts,
            dead,
            units=units,
            transforms=transforms,
            spec=spec,
            images=images,
            values=values,
            report=restart_report,
        )
        for index, note in restarted.items():
            notes[index] = (*base_notes, note)
    seconds = time.perf_counter() - started
    renderings = []
    for index, target in enumerate(targets):
        block = slice(index * k, (index + 1) * k)
        renderings.append(
            UnitRendering(
                model_id=spec.model_id,
                revision=resolved.revision.revision,
                layer=spec.layer,
                unit=target,
                objective=spec.objective,
                image=_to_uint8(images[block]),
                activation=float(np.sum(values[block]) / k),
                parameters=resolved.identity(target),
                n_images=k,
                cached=False,
                cache_key=resolved.key(target),
                seconds=round(seconds, 3),
                notes=notes[index],
            )
        )
    return renderings


@dataclass(frozen=True, slots=True, kw_only=True)
class ExampleStarts:
    """Starting images for dead units: ``images`` ``[n, h, w, c]`` in [0, 1], with their dataset row and value."""

    images: np.ndarray
    rows: tuple[int, ...]
    values: tuple[float, ...]


def _restart_from_examples(
    optimizer: Any,
    example_starts: Callable[[list[int]], ExampleStarts],
    dead: list[int],
    *,
    units: list[int],
    transforms: list[np.ndarray],
    spec: RenderSpec,
    images: np.ndarray,
    values: np.ndarray,
    report: Callable[[int, int], None] | None = None,
) -> dict[int, str]:
    """Optimise the ``dead`` items again from their strongest dataset examples (in place); their notes.

    The batch is padded to the optimizer's size with copies of the first dead item, so the
    compiled step is reused; items do not interact, so the padding changes nothing.
    """
    from analysis.microscope.featurevis.param import image_to_spectrum

    try:
        starts = example_starts([units[i] for i in dead])
    except AnalysisInputError as error:
        message = f"lucid's random start left this unit at 0; no restart from the data set ({error})"
        return dict.fromkeys(dead, message)
    order = dead + [dead[0]] * (optimizer.batch - len(dead))
    chosen = list(range(len(dead))) + [0] * (optimizer.batch - len(dead))
    spectra = image_to_spectrum(starts.images[chosen])
    again = optimizer.run(
        initial_spectrum=spectra,
        transforms=np.stack([transforms[i] for i in order], axis=1),
        units=np.asarray([units[i] for i in order], dtype=np.int32),
        warm_start_steps=spec.warm_start_steps,
        progress=report,
    )
    notes = {}
    for position, index in enumerate(dead):
        source = f"dataset row {starts.rows[position]}, where it reaches {starts.values[position]:.4g}"
        if again.values[position] > values[index]:
            images[index], values[index] = again.images[position], again.values[position]
            notes[index] = (
                f"lucid's random start left this unit at 0 (it never fired); this image was optimised "
                f"from the unit's strongest dataset example instead ({source})"
            )
        else:
            notes[index] = (
                f"this unit stayed at 0 (it never fired) from lucid's random start and from its "
                f"strongest dataset example ({source}): it is dead or nearly dead"
            )
    return notes


def _example_starts_for(
    resolved: ResolvedRender, model: Any, store: ResultStore, registry: ModelRegistry | None
) -> Callable[[list[int]], ExampleStarts]:
    """Reads each unit's strongest example from the layer's dataset examples (computed once, cached)."""

    def starts(units: list[int]) -> ExampleStarts:
        from analysis.microscope.dataset_examples import (
            DatasetExamplesSpec,
            Ranking,
            compute_dataset_examples,
            load_example_inputs,
        )

        spec = resolved.spec
        examples = compute_dataset_examples(
            DatasetExamplesSpec(model_id=spec.model_id, layer=spec.layer, revision=resolved.revision.revision),
            model=model,
            store=store,
            registry=registry,
        )
        if resolved.restart_dataset is None or examples.dataset_sha256 != resolved.restart_dataset.sha256:
            raise AnalysisInputError("the linked data set changed while rendering; render again")
        rows = [int(examples.arrays["top_mean_index"][u, 0]) for u in units]
        low, high = resolved.input_range
        inputs = np.asarray(load_example_inputs(examples, rows), dtype=np.float32)
        pictures = (inputs - low) / (high - low)
        if pictures.shape[1:3] != resolved.image_hw:
            import tensorflow as tf

            pictures = tf.image.resize(pictures, resolved.image_hw).numpy()
        return ExampleStarts(
            images=pictures, rows=tuple(rows), values=tuple(examples.strongest(u, Ranking.MEAN) for u in units)
        )

    return starts


def render_units(
    spec: RenderSpec,
    *,
    model: Any = None,
    progress: Progress | None = None,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> list[UnitRendering]:
    """Render (or fetch from the cache) every target of ``spec``, in the spec's order.

    ``model``: the registered revision's ``keras.Model`` if the caller has it loaded (it is
    never modified); loaded from the registry otherwise, and only if something is missing.
    ``progress(fraction, message)`` is called as batches advance. Units already cached are
    skipped; batches take a per-unit lock in the store, so concurrent renderers (threads,
    processes, Ray workers on one shared store) compute each unit once.
    """
    resolved = resolve_render(spec, registry=registry)
    if store is None:
        from analysis.paths import open_result_store

        store = open_result_store()
    found: dict[int | None, UnitRendering] = {}
    for target in spec.targets():
        cached = read_rendering(store, resolved, target)
        if cached is not None:
            found[target] = cached
    missing = [t for t in spec.targets() if t not in found]
    batches = spec.render_groups(missing, resolved.layer.units)
    total_steps = max(1, len(batches) * spec.steps)
    if progress is not None:
        progress(0.0, f"{len(found)} cached, {len(missing)} to render in {len(batches)} batch(es)")
    for number, batch in enumerate(batches):
        with ExitStack() as locks:
            for key in sorted(resolved.key(t) for t in batch):
                locks.enter_context(store.key_lock(key))
            # Another renderer may have finished the whole group while we waited.
            stored = {t: read_rendering(store, resolved, t) for t in batch}
            if all(rendering is not None for rendering in stored.values()):
                found.update(stored)
                continue
            todo = list(batch)  # the whole group, always: a unit's sums depend on its batch
            if model is None:
                from analysis.models.loading import load_revision

                model = load_revision(resolved.revision)

            def report(step: int, steps: int, restarting: int = 0, number: int = number, todo: list = todo) -> None:
                if progress is not None:
                    # A restart of dead units runs after the batch's steps; the bar waits at the batch's end.
                    done = number * spec.steps + (spec.steps if restarting else step)
                    phase = f"restarting {restarting} dead unit(s) from dataset examples, " if restarting else ""
                    message = f"batch {number + 1}/{len(batches)} ({units_text(len(todo))}): {phase}step {step}/{steps}"
                    progress(done / total_steps, message)

            starts = _example_starts_for(resolved, model, store, registry) if resolved.restart_dataset else None
            for rendering in _render_batch(resolved, model, todo, report, starts):
                if stored[rendering.unit] is None:
                    write_rendering(store, rendering)
                found[rendering.unit] = rendering
    if progress is not None:
        progress(1.0, "done")
    return [found[t] for t in spec.targets()]
