"""Objectives: what an optimised image should do to a layer (ported from ``lucid/optvis/objectives.py``).

One interface, captum-style: every objective is an :class:`Objective` with one verb,
``per_item(acts) -> [batch]`` (its value for each batch item), and declares its
capabilities on the class (``needs_unit``, ``needs_spatial``, ``couples_items``) plus
``is_compatible(layer)`` so a UI offers only what fits. Objectives compose:
``channel("conv4") - 100 * diversity("conv4", group=4)``.

Units and batches. ``channel(layer, unit)`` fixes a unit; ``channel(layer)`` (unit None)
means *each item's own unit*: item ``i`` of the batch gets ``acts.units[i]``. Summed over
the batch, that is exactly lucid's ``sum(channel(layer, u_i, batch=i))``, and it lets one
compiled step render any set of units. The renderer maximises ``sum(per_item) / k`` where
``k`` is the number of images per unit (1, or the diversity group size), which equals
lucid's objective in every case (lucid's ``channel`` averages over its batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import tensorflow as tf

from analysis.errors import AnalysisInputError
from analysis.models.summary import LayerInfo


@dataclass(frozen=True)
class Activations:
    """What objectives see: ``layers[name]`` is ``[batch, ..., channels]``; ``units`` int32 ``[batch]``."""

    layers: Mapping[str, tf.Tensor]
    units: tf.Tensor

    def __getitem__(self, name: str) -> tf.Tensor:
        return self.layers[name]


class Objective:
    """Base class. Subclasses set the class attributes and implement :meth:`per_item`."""

    name: ClassVar[str] = "objective"
    needs_unit: ClassVar[bool] = False  # addresses one channel (fixed, or each item's own)
    needs_spatial: ClassVar[bool] = False  # needs a [height, width, channels] layer
    couples_items: ClassVar[bool] = False  # an item's value depends on other items (diversity)

    def per_item(self, acts: Activations) -> tf.Tensor:
        """float32 ``[batch]``: the objective's value for each batch item (higher is better)."""
        raise NotImplementedError

    @property
    def layers(self) -> tuple[str, ...]:
        """Names of the layers whose activations :meth:`per_item` reads."""
        return (self.layer,)  # type: ignore[attr-defined]

    @classmethod
    def is_compatible(cls, layer: LayerInfo) -> bool:
        """Whether this kind of objective can be computed on ``layer``."""
        return not cls.needs_spatial or len(layer.output_shape) == 3

    # -- composition ----------------------------------------------------------------------
    def __add__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Sum.of((1.0, self), (1.0, other))

    def __sub__(self, other: Objective) -> Objective:
        if not isinstance(other, Objective):
            return NotImplemented
        return Sum.of((1.0, self), (-1.0, other))

    def __mul__(self, weight: float) -> Objective:
        if isinstance(weight, bool) or not isinstance(weight, int | float | np.floating | np.integer):
            return NotImplemented
        return Sum.of((float(weight), self))

    __rmul__ = __mul__

    def __neg__(self) -> Objective:
        return self * -1.0

    def __truediv__(self, divisor: float) -> Objective:
        return self * (1.0 / float(divisor))


def _unit_values(acts: Activations, layer: str, unit: int | None) -> tf.Tensor:
    """The addressed channel of ``layer``: ``[batch, ...spatial]``."""
    values = acts[layer]
    if unit is not None:
        return values[..., unit]
    return tf.gather(values, acts.units, axis=values.shape.rank - 1, batch_dims=1)


def _mean_over_positions(values: tf.Tensor) -> tf.Tensor:
    """``[batch, ...]`` -> ``[batch]``."""
    return tf.reduce_mean(tf.reshape(values, [tf.shape(values)[0], -1]), axis=1)


# -- channel ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Channel(Objective):
    """Mean over positions of one channel (lucid ``channel(layer, n)``)."""

    layer: str
    unit: int | None = None
    name: ClassVar[str] = "channel"
    needs_unit: ClassVar[bool] = True

    def per_item(self, acts: Activations) -> tf.Tensor:
        return _mean_over_positions(_unit_values(acts, self.layer, self.unit))


# -- neuron -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Neuron(Objective):
    """One channel at one position, by default the spatial centre ``(H//2, W//2)`` (lucid ``neuron``)."""

    layer: str
    unit: int | None = None
    x: int | None = None
    y: int | None = None
    name: ClassVar[str] = "neuron"
    needs_unit: ClassVar[bool] = True
    needs_spatial: ClassVar[bool] = True

    def per_item(self, acts: Activations) -> tf.Tensor:
        values = _unit_values(acts, self.layer, self.unit)  # [batch, H, W]
        height, width = values.shape[1], values.shape[2]
        y = height // 2 if self.y is None else self.y
        x = width // 2 if self.x is None else self.x
        return values[:, y, x]


# -- direction ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Direction(Objective):
    """Mean over positions of ``acts . vector`` (times floored cosine similarity ** ``cossim_pow``)."""

    layer: str
    vector: tuple[float, ...]
    cossim_pow: float = 0.0
    name: ClassVar[str] = "direction"

    def per_item(self, acts: Activations) -> tf.Tensor:
        values = acts[self.layer]
        vector = tf.constant(np.asarray(self.vector, dtype=np.float32))
        dot = tf.reduce_sum(values * vector, axis=-1)
        if self.cossim_pow:
            eps = 1e-4
            cossim = dot / (eps + tf.norm(values, axis=-1)) / (eps + tf.norm(vector))
            dot = dot * tf.maximum(0.1, cossim) ** self.cossim_pow
        return _mean_over_positions(dot)


# -- deepdream ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DeepDream(Objective):
    """Mean of the squared activations of the whole layer (lucid ``deepdream``)."""

    layer: str
    name: ClassVar[str] = "deepdream"

    def per_item(self, acts: Activations) -> tf.Tensor:
        return _mean_over_positions(tf.square(acts[self.layer]))


# -- caricature ---------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Caricature(Objective):
    """Exaggerate what a layer sees in one input (lucid's ``recipes/caricature.py``, ``dot_compare``).

    ``reference`` is the layer's activations on the chosen example: float32, the layer's
    output shape without the batch axis (``[height, width, channels]`` or ``[channels]``).
    Each item's value is the dot product of its activations with the reference over every
    position and channel, times ``max(0.1, cossim) ** cossim_pow``, where ``cossim`` is the
    cosine similarity of the two flattened tensors. Lucid's recipe divides the dot product by
    the reference's norm only; the full cosine keeps the factor in [0.1, 1], so the power
    rewards matching the example's pattern rather than sheer magnitude.
    """

    layer: str
    reference: np.ndarray
    cossim_pow: float = 1.0
    name: ClassVar[str] = "caricature"

    def per_item(self, acts: Activations) -> tf.Tensor:
        values = acts[self.layer]
        flat = tf.reshape(values, [tf.shape(values)[0], -1])
        reference = tf.constant(np.asarray(self.reference, dtype=np.float32).reshape(1, -1))
        dot = tf.reduce_sum(flat * reference, axis=1)
        if self.cossim_pow:
            eps = 1e-6
            cossim = dot / (eps + tf.norm(flat, axis=1)) / (eps + tf.norm(reference))
            dot = dot * tf.maximum(0.1, cossim) ** self.cossim_pow
        return dot


# -- diversity ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Diversity(Objective):
    """Pairwise similarity of items' Gram matrices within groups of ``group`` consecutive items.

    Lucid's ``diversity(layer)``: each item's Gram matrix ``F^T F`` of its ``[H*W, C]``
    activations, normalised to unit L2 norm; the penalty is the sum over pairs ``i != j`` of
    ``<G_i, G_j>`` divided by the batch size. Here item ``i``'s value is its summed
    similarity to the other items of its group, so ``sum(per_item) / group`` is lucid's
    penalty for each group. It is a penalty: use it with a negative weight.
    """

    layer: str
    group: int
    name: ClassVar[str] = "diversity"
    couples_items: ClassVar[bool] = True

    def per_item(self, acts: Activations) -> tf.Tensor:
        values = acts[self.layer]
        batch, channels = tf.shape(values)[0], values.shape[-1]
        flat = tf.reshape(values, [batch, -1, channels])
        grams = tf.matmul(flat, flat, transpose_a=True)
        grams = tf.math.l2_normalize(tf.reshape(grams, [batch, -1]), axis=1, epsilon=1e-10)
        grouped = tf.reshape(grams, [-1, self.group, channels * channels])
        similarity = tf.matmul(grouped, grouped, transpose_b=True)  # [groups, group, group]
        others = tf.reduce_sum(similarity, axis=2) - tf.linalg.diag_part(similarity)
        return tf.reshape(others, [batch])

    @classmethod
    def is_compatible(cls, layer: LayerInfo) -> bool:
        return len(layer.output_shape) >= 2


# -- composition --------------------------------------------------------------------------
@dataclass(frozen=True)
class Sum(Objective):
    """A weighted sum of objectives; what ``+``, ``-`` and scalar ``*`` build."""

    terms: tuple[tuple[float, Objective], ...]
    name: ClassVar[str] = "sum"

    @classmethod
    def of(cls, *terms: tuple[float, Objective]) -> Sum:
        flat: list[tuple[float, Objective]] = []
        for weight, objective in terms:
            if isinstance(objective, Sum):
                flat.extend((weight * inner_weight, inner) for inner_weight, inner in objective.terms)
            else:
                flat.append((weight, objective))
        return cls(terms=tuple(flat))

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for _, term in self.terms for name in term.layers))

    @property
    def needs_unit_any(self) -> bool:
        return any(term.needs_unit for _, term in self.terms)

    @property
    def couples_items_any(self) -> bool:
        return any(term.couples_items for _, term in self.terms)

    def per_item(self, acts: Activations) -> tf.Tensor:
        return tf.add_n([weight * term.per_item(acts) for weight, term in self.terms])


# -- lucid-style constructors -------------------------------------------------------------
def channel(layer: str, unit: int | None = None) -> Channel:
    return Channel(layer, unit)


def neuron(layer: str, unit: int | None = None, x: int | None = None, y: int | None = None) -> Neuron:
    return Neuron(layer, unit, x, y)


def direction(layer: str, vector: Sequence[float], cossim_pow: float = 0.0) -> Direction:
    return Direction(layer, tuple(float(v) for v in vector), cossim_pow)


def deepdream(layer: str) -> DeepDream:
    return DeepDream(layer)


def diversity(layer: str, group: int) -> Diversity:
    return Diversity(layer, group)


def caricature(layer: str, reference: np.ndarray, cossim_pow: float = 1.0) -> Caricature:
    return Caricature(layer, np.asarray(reference, dtype=np.float32), float(cossim_pow))


OBJECTIVE_CLASSES: tuple[type[Objective], ...] = (Channel, Neuron, Direction, DeepDream, Diversity, Caricature)


def check_objective_fits(objective: Objective, layers: Mapping[str, LayerInfo]) -> None:
    """Raise AnalysisInputError if a term reads an unknown layer, or a layer it cannot use."""
    terms = objective.terms if isinstance(objective, Sum) else ((1.0, objective),)
    for _, term in terms:
        for name in term.layers:
            info = layers.get(name)
            if info is None:
                from analysis.errors import describe_choices

                raise AnalysisInputError(f"unknown layer {name!r}; layers with units are {describe_choices(layers)}")
            if not term.is_compatible(info):
                raise AnalysisInputError(
                    f"objective {term.name!r} needs a layer with [height, width, channels] outputs; "
                    f"layer {name!r} has output shape {list(info.output_shape)}"
                )
            unit = getattr(term, "unit", None)
            if unit is not None and not 0 <= unit < info.units:
                raise AnalysisInputError(
                    f"unit {unit} is out of range for layer {name!r}; valid units are 0-{info.units - 1}"
                )
            reference = getattr(term, "reference", None)
            if reference is not None and tuple(reference.shape) != tuple(info.output_shape):
                raise AnalysisInputError(
                    f"caricature reference has shape {list(reference.shape)} but layer {name!r} "
                    f"outputs {list(info.output_shape)}"
                )
            vector = getattr(term, "vector", None)
            if vector is not None and len(vector) != info.units:
                raise AnalysisInputError(
                    f"direction has {len(vector)} values but layer {name!r} has {info.units} channels"
                )


def describe(objective: Objective) -> dict[str, Any]:
    """A JSON-safe description of an objective (for records and cache keys)."""
    if isinstance(objective, Sum):
        return {"sum": [{"weight": w, **describe(t)} for w, t in objective.terms]}
    fields = {k: getattr(objective, k) for k in objective.__dataclass_fields__}  # type: ignore[attr-defined]

    def plain(value: Any) -> Any:
        if isinstance(value, np.ndarray):  # a caricature's reference: its shape, not its values
            return {"shape": list(value.shape)}
        return list(value) if isinstance(value, tuple) else value

    return {"objective": objective.name, **{k: plain(v) for k, v in fields.items()}}
