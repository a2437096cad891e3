"""What to render and what comes back: :class:`RenderSpec` and :class:`UnitRendering`.

This module never imports TensorFlow: pages build specs and read cached renderings with it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlencode

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices

# Bump whenever a change alters rendered pixels or values: it is part of every cache key.
CODE_VERSION = "featurevis-4"  # 4: a lone item renders beside a copy of itself (same image as in any batch)

DEFAULT_STEPS = 512
DEFAULT_BATCH = 32
DEFAULT_SEED = 0
DEFAULT_LEARNING_RATE = 0.05
DEFAULT_WARM_START_STEPS = 16  # redirected-ReLU gradient for the first 16 steps (lucid)
DEFAULT_DIVERSITY_IMAGES = 4  # lucid's canonical diversity batch
DEFAULT_DIVERSITY_WEIGHT = 100.0  # channel(L, n) - 100 * diversity(L)
DEFAULT_CARICATURE_COSSIM_POW = 1.0  # caricature: dot product times cosine similarity ** 1
MAX_STEPS = 100_000
MAX_BATCH = 512
MAX_IMAGE_SIZE = 1024


class ObjectiveKind(StrEnum):
    """What a rendering maximises. Per-unit kinds address one unit (channel) of a layer."""

    CHANNEL = "channel"  # mean of the unit over positions
    NEURON = "neuron"  # the unit at the spatial centre
    NEGATIVE = "negative"  # minus the channel objective
    NEGATIVE_NEURON = "negative_neuron"  # minus the neuron objective
    DIVERSITY = "diversity"  # several distinct images of one unit: channel - 100 * diversity
    DEEPDREAM = "deepdream"  # the whole layer (mean squared activation); no unit
    DIRECTION = "direction"  # a direction in the layer's channel space; no unit
    CARICATURE = "caricature"  # the layer's response to one dataset example, exaggerated; no unit

    @property
    def per_unit(self) -> bool:
        return self not in (ObjectiveKind.DEEPDREAM, ObjectiveKind.DIRECTION, ObjectiveKind.CARICATURE)

    @property
    def needs_spatial(self) -> bool:
        return self in (ObjectiveKind.NEURON, ObjectiveKind.NEGATIVE_NEURON)

    @classmethod
    def parse(cls, value: ObjectiveKind | str) -> ObjectiveKind:
        """The kind named ``value``; AnalysisInputError naming the valid kinds otherwise."""
        if isinstance(value, cls):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError as error:
            raise AnalysisInputError(
                f"unknown objective {value!r}; valid objectives are {describe_choices(k.value for k in cls)}"
            ) from error


def microscope_url(
    model_id: str,
    layer: str,
    unit: int | None = None,
    *,
    revision: str | None = None,
    view: str | None = None,
    example: int | None = None,
) -> str:
    """The stable page link, e.g. ``/microscope?model=shapes-cnn&layer=conv4&unit=7``."""
    query: dict[str, Any] = {"model": model_id, "layer": layer}
    if unit is not None:
        query["unit"] = unit
    if revision:
        query["rev"] = revision
    if view:
        query["view"] = view
    if example is not None:
        query["example"] = example
    return "/microscope?" + urlencode(query)


@dataclass(frozen=True, slots=True, kw_only=True)
class RenderSpec:
    """Feature visualizations to make: one image (or one set, for diversity) per unit.

    ``units`` lists channels of ``layer`` (empty for the layer-level kinds ``deepdream`` and
    ``direction``). ``revision`` is a hash prefix (None: the model's current revision).
    ``image_size`` is the side of the optimised image in pixels (None: the model's input size).
    ``batch`` is how many images are optimised together. Each item's randomness comes from
    ``(seed, unit, image index)``, but a CPU's convolution kernels may round an item's sums
    differently by its position in the batch and the batch's size (oneDNN's AVX2 kernels do), so
    each unit is rendered in a fixed **render group** (:meth:`render_groups`): for ``channel``,
    the ``batch`` consecutive units of the layer that contain it; for the other kinds, the unit
    alone. A ``channel`` batch other than the default is therefore part of the cache key.
    ``restart_dead_units``: for the ``channel`` kind, a unit that lucid's recipe leaves at exactly
    0 (it never fires on the optimised image: a dead or nearly dead unit, for which lucid's
    16-step warm start was not enough) is optimised again, with the same steps and transforms,
    starting from its strongest example (by channel mean) in the model's linked data set; the
    rendering keeps whichever start ends higher and says so in its notes. No effect without a
    linked data set.
    ``example`` (``caricature`` only, required there) is the row of the model's linked data set
    whose activations at ``layer`` the caricature exaggerates; ``caricature_cossim_pow`` is the
    power of the cosine-similarity factor.
    """

    model_id: str
    layer: str
    units: tuple[int, ...] = ()
    objective: ObjectiveKind = ObjectiveKind.CHANNEL
    revision: str | None = None
    steps: int = DEFAULT_STEPS
    batch: int = DEFAULT_BATCH
    image_size: int | None = None
    seed: int = DEFAULT_SEED
    learning_rate: float = DEFAULT_LEARNING_RATE
    warm_start_steps: int = DEFAULT_WARM_START_STEPS
    diversity_images: int = DEFAULT_DIVERSITY_IMAGES
    diversity_weight: float = DEFAULT_DIVERSITY_WEIGHT
    direction: tuple[float, ...] | None = None
    example: int | None = None
    caricature_cossim_pow: float = DEFAULT_CARICATURE_COSSIM_POW
    restart_dead_units: bool = True

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "objective", ObjectiveKind.parse(self.objective))
        if not isinstance(self.model_id, str) or not self.model_id:
            raise AnalysisInputError(f"model id {self.model_id!r} must be a non-empty string")
        if not isinstance(self.layer, str) or not self.layer:
            raise AnalysisInputError(f"layer {self.layer!r} must be a non-empty layer name")
        units = tuple(self.units)
        for unit in units:
            if isinstance(unit, bool) or not isinstance(unit, int | np.integer) or unit < 0:
                raise AnalysisInputError(f"unit {unit!r} must be a non-negative integer")
        units = tuple(int(u) for u in units)
        counts = Counter(units)  # linear: a 10,000-unit layer is one spec
        duplicates = sorted(u for u, n in counts.items() if n > 1)
        if duplicates:
            raise AnalysisInputError(f"unit {duplicates[0]} is listed more than once in units")
        set_(self, "units", units)
        if self.objective.per_unit and not units:
            raise AnalysisInputError(f"objective {self.objective.value!r} needs at least one unit")
        if not self.objective.per_unit and units:
            raise AnalysisInputError(
                f"objective {self.objective.value!r} renders the whole layer; pass no units (got {list(units)})"
            )
        if self.objective is ObjectiveKind.DIRECTION:
            vector = tuple(float(v) for v in (self.direction or ()))
            if not vector or not all(math.isfinite(v) for v in vector) or not any(vector):
                raise AnalysisInputError("objective 'direction' needs a finite, non-zero direction vector")
            set_(self, "direction", vector)
        elif self.direction is not None:
            raise AnalysisInputError(
                f"a direction vector is only used by objective 'direction', not {self.objective.value!r}"
            )
        if self.objective is ObjectiveKind.CARICATURE:
            if self.example is None:
                raise AnalysisInputError(
                    "objective 'caricature' needs example, the row of the linked data set to exaggerate"
                )
            _check_int("example", self.example, 0, 2**63 - 1)
            set_(self, "example", int(self.example))
        elif self.example is not None:
            raise AnalysisInputError(
                f"example {self.example!r} is only used by objective 'caricature', not {self.objective.value!r}"
            )
        if not (
            isinstance(self.caricature_cossim_pow, int | float)
            and not isinstance(self.caricature_cossim_pow, bool)
            and 0 <= self.caricature_cossim_pow <= 10
        ):
            raise AnalysisInputError(
                f"caricature_cossim_pow {self.caricature_cossim_pow!r} must be a number from 0 to 10"
            )
        _check_int("steps", self.steps, 1, MAX_STEPS)
        _check_int("batch", self.batch, 1, MAX_BATCH)
        _check_int("seed", self.seed, 0, 2**63 - 1)
        _check_int("warm_start_steps", self.warm_start_steps, 0, MAX_STEPS)
        _check_int("diversity_images", self.diversity_images, 2, MAX_BATCH)
        if not isinstance(self.restart_dead_units, bool):
            raise AnalysisInputError(f"restart_dead_units {self.restart_dead_units!r} must be true or false")
        if self.image_size is not None:
            _check_int("image_size", self.image_size, 8, MAX_IMAGE_SIZE)
        if not (isinstance(self.learning_rate, int | float) and 0 < self.learning_rate <= 10):
            raise AnalysisInputError(f"learning_rate {self.learning_rate!r} must be a number in (0, 10]")
        if not (isinstance(self.diversity_weight, int | float) and math.isfinite(self.diversity_weight)):
            raise AnalysisInputError(f"diversity_weight {self.diversity_weight!r} must be a finite number")
        if self.objective is ObjectiveKind.DIVERSITY and self.batch < self.diversity_images:
            raise AnalysisInputError(
                f"batch {self.batch} is smaller than diversity_images {self.diversity_images}; "
                "one unit's images are optimised together"
            )

    @property
    def restarts_dead_units(self) -> bool:
        """Whether a unit left at 0 is optimised again from its strongest dataset example."""
        return self.restart_dead_units and self.objective is ObjectiveKind.CHANNEL

    @property
    def images_per_unit(self) -> int:
        return self.diversity_images if self.objective is ObjectiveKind.DIVERSITY else 1

    @property
    def units_per_batch(self) -> int:
        return max(1, self.batch // self.images_per_unit)

    def targets(self) -> tuple[int | None, ...]:
        """The renderings this spec asks for: its units, or ``(None,)`` for a layer-level kind."""
        return self.units if self.objective.per_unit else (None,)

    def render_groups(self, targets: Sequence[int | None], layer_units: int) -> list[tuple[int | None, ...]]:
        """The batches that render ``targets``: each target's fixed render group, each group once.

        A group is rendered whole even when only one of its units is asked for, so a unit's image
        does not depend on which other units were missing from the cache (the group's other
        renderings are stored too).
        """
        if self.objective is not ObjectiveKind.CHANNEL:
            return [(target,) for target in dict.fromkeys(targets)]
        size = self.units_per_batch
        starts = sorted({(target or 0) // size * size for target in targets})
        return [tuple(range(start, min(start + size, layer_units))) for start in starts]

    def identity(self, unit: int | None, *, image_size: int) -> dict[str, Any]:
        """Everything that determines one unit's pixels (the cache key's parameters).

        ``batch`` only where it sets the render group: a ``channel`` batch other than the default.
        """
        identity: dict[str, Any] = {
            "layer": self.layer,
            "unit": unit,
            "objective": self.objective.value,
            "steps": self.steps,
            "seed": self.seed,
            "image_size": image_size,
            "learning_rate": float(self.learning_rate),
            "warm_start_steps": self.warm_start_steps,
        }
        if self.objective is ObjectiveKind.CHANNEL and self.units_per_batch != DEFAULT_BATCH:
            identity["render_group"] = self.units_per_batch
        if self.objective is ObjectiveKind.DIVERSITY:
            identity["diversity_images"] = self.diversity_images
            identity["diversity_weight"] = float(self.diversity_weight)
        if self.objective is ObjectiveKind.DIRECTION:
            identity["direction"] = list(self.direction or ())
        if self.objective is ObjectiveKind.CARICATURE:
            identity["example"] = self.example
            identity["caricature_cossim_pow"] = float(self.caricature_cossim_pow)
        return identity


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or not low <= value <= high:
        raise AnalysisInputError(f"{name} {value!r} must be an integer from {low} to {high}")


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitRendering:
    """One unit's feature visualization.

    ``image`` is uint8 ``[height, width, 3]``; for ``diversity`` it is the unit's
    ``n_images`` images side by side, ``[height, n_images * width, 3]`` (see :attr:`images`).
    ``activation`` is the objective's value on the final image(s), measured without
    transforms (for diversity: the mean channel term minus the weighted diversity penalty).
    ``parameters`` is the rendering's identity (see :meth:`RenderSpec.identity`).
    """

    model_id: str
    revision: str
    layer: str
    unit: int | None
    objective: ObjectiveKind
    image: np.ndarray
    activation: float
    parameters: Mapping[str, Any]
    n_images: int = 1
    cached: bool = False
    cache_key: str = ""
    seconds: float | None = None  # wall time of the batch that rendered it (None when cached)
    notes: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        image = np.asarray(self.image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"a rendering's image must be uint8 [height, width, 3], got {image.dtype} {image.shape}")

    @property
    def images(self) -> list[np.ndarray]:
        """The individual images (one, or ``n_images`` for diversity), each ``[h, w, 3]`` uint8."""
        return np.split(self.image, self.n_images, axis=1)

    @property
    def url(self) -> str:
        """The Microscope page that shows this rendering (the unit's, or the layer's technique page)."""
        if self.objective in (ObjectiveKind.DEEPDREAM, ObjectiveKind.CARICATURE):
            example = self.parameters.get("example")
            return microscope_url(self.model_id, self.layer, view=self.objective.value, example=example)
        return microscope_url(self.model_id, self.layer, self.unit)

    def png(self) -> bytes:
        """The image as PNG bytes (for downloads)."""
        from cache.codecs import PNG

        return PNG.encode(self.image)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe metadata (the image itself is left out; use :meth:`png`)."""
        return {
            "model": self.model_id,
            "revision": self.revision,
            "layer": self.layer,
            "unit": self.unit,
            "objective": self.objective.value,
            "activation": self.activation if math.isfinite(self.activation) else None,
            "parameters": dict(self.parameters),
            "n_images": self.n_images,
            "image_shape": list(self.image.shape),
            "cached": self.cached,
            "cache_key": self.cache_key,
            "seconds": self.seconds,
            "notes": list(self.notes),
            "url": self.url,
        }
