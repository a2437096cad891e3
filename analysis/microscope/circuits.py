"""Circuits: what each unit is built from, as expanded weights or as attribution on data.

Expanded weights (Olah et al., "Zoom In", 2020): the path from a source layer to a target layer
is linearised (ReLUs pass gradients unchanged, max pooling is average pooling, batch
normalisation is its affine map at inference) and differentiated: for target unit ``j`` the
gradient of its value at the centre position with respect to the source layer's activations,
cropped to the window of the source that reaches that position. Per target unit
``[kh, kw, C_source]``; Dense to Dense it is the weight matrix (``kh = kw = 1``).

Attribution: over a sample of the linked data set, the mean of gradient x activation (summed over
space) of the target unit's spatial mean with respect to each source unit, through the real
network: ``[1, 1, C_source]`` per target unit.

One result holds a whole layer pair (every target unit), computed in batched passes and cached
in the result store (NPZ) per (revision, layer pair, method, data set hash, sample). Reading
the cache (:func:`load_cached_connections`) does not import TensorFlow. The TensorFlow half is
:mod:`analysis.microscope.circuit_gradients`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetRole, load_npz
from analysis.errors import AnalysisInputError, describe_choices
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.progress import Progress
from cache import NPZ, ResultStore, make_key

CODE_VERSION = "connections-1"
ANALYSIS_NAME = "connections"
DEFAULT_TOP = 8
DEFAULT_EXAMPLES = 256
PASS_THROUGH_KINDS = frozenset({"BatchNormalization", "LayerNormalization", "Dropout", "SpatialDropout2D"})


class ConnectionMethod(StrEnum):
    WEIGHTS = "weights"  # expanded weights of the linearised network
    ATTRIBUTION = "attribution"  # mean gradient x activation on the linked data set

    @classmethod
    def parse(cls, text: Any) -> ConnectionMethod:
        try:
            return cls(str(text).strip().lower())
        except ValueError as error:
            raise AnalysisInputError(
                f"unknown connections method {text!r}; valid methods are {describe_choices(m.value for m in cls)}"
            ) from error


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionsSpec:
    """One layer pair: every unit of ``layer`` against the units of ``from_layer``.

    ``from_layer`` None: the nearest earlier layer with units. ``n_examples`` and ``seed`` pick the
    attribution sample from the linked data set; ``batch_size`` rows per backward pass (does not
    change results).
    """

    model_id: str
    layer: str
    from_layer: str | None = None
    method: ConnectionMethod = ConnectionMethod.WEIGHTS
    revision: str | None = None
    n_examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    batch_size: int = 64

    def __post_init__(self) -> None:
        object.__setattr__(self, "method", ConnectionMethod.parse(self.method))
        for name, value, low, high in (
            ("n_examples", self.n_examples, 1, 100_000),
            ("seed", self.seed, 0, 2**31 - 1),
            ("batch_size", self.batch_size, 1, 4096),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise AnalysisInputError(f"{name} {value!r} must be an integer from {low} to {high}")


def earlier_layers(revision: RevisionRecord, layer: str) -> list[str]:
    """The layers with units listed before ``layer`` (the candidates for ``from``), nearest last."""
    names = [info.name for info in revision.summary.layers]
    revision.summary.layer(layer)  # names the valid layers
    return names[: names.index(layer)]


def _computes_features(kind: str) -> bool:
    """False for layers that only pool, normalise or drop their input's units (``pool3`` is ``conv3`` pooled)."""
    return "Pooling" not in kind and kind not in PASS_THROUGH_KINDS


def resolve_from_layer(revision: RevisionRecord, layer: str, from_layer: str | None) -> str:
    """``from_layer`` checked against the model's layer order.

    The default is the nearest earlier layer with units that computes features (not a pooling,
    normalisation or dropout layer; those can still be named). Whether it lies on a path to
    ``layer`` is checked when the model is loaded (compute).
    """
    earlier = earlier_layers(revision, layer)
    if from_layer is None or not str(from_layer).strip():
        if not earlier:
            raise AnalysisInputError(f"layer {layer!r} is the first layer with units; no earlier layer feeds it")
        kinds = {info.name: info.kind for info in revision.summary.layers}
        features = [name for name in earlier if _computes_features(kinds[name])]
        return (features or earlier)[-1]
    from_layer = str(from_layer).strip()
    names = [info.name for info in revision.summary.layers]
    choices = describe_choices(earlier) if earlier else "none (it is the first layer with units)"
    if from_layer == layer:
        raise AnalysisInputError(f"from {from_layer!r} is the unit's own layer; earlier layers are {choices}")
    if from_layer not in names:
        raise AnalysisInputError(f"from {from_layer!r} is not a layer with units; earlier layers are {choices}")
    if from_layer not in earlier:
        raise AnalysisInputError(f"from {from_layer!r} comes after layer {layer!r}; earlier layers are {choices}")
    return from_layer


def parse_claim(text: Any, source_units: int, from_layer: str) -> tuple[int, ...]:
    """``"373,237"`` -> ``(373, 237)``, each a unit of ``from_layer`` (``0..source_units-1``)."""
    units = []
    for part in filter(None, (p.strip() for p in str(text).split(","))):
        try:
            unit = int(part)
        except ValueError as error:
            raise AnalysisInputError(
                f"claim unit {part!r} is not an integer; units of {from_layer!r} are 0-{source_units - 1}"
            ) from error
        if not 0 <= unit < source_units:
            raise AnalysisInputError(
                f"claim unit {unit} is out of range; units of {from_layer!r} are 0-{source_units - 1}"
            )
        units.append(unit)
    if not units:
        raise AnalysisInputError(f"claim {text!r} names no unit; give units of {from_layer!r} like 3,17")
    return tuple(dict.fromkeys(units))


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """One source unit's connection to a target unit: ``rank`` 1 = strongest."""

    unit: int
    rank: int
    strength: float  # L2 norm over space (weights) or |value| (attribution)
    value: float  # signed: summed over space (weights) or the mean contribution (attribution)

    @property
    def excitatory(self) -> bool:
        return self.value > 0

    def to_dict(self) -> dict[str, Any]:
        sign = "excitatory" if self.value > 0 else ("inhibitory" if self.value < 0 else "none")
        return {"unit": self.unit, "rank": self.rank, "strength": self.strength, "value": self.value, "sign": sign}


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimCheck:
    """The named source units' ranks and their share of the total strength (sum of strengths)."""

    connections: tuple[Connection, ...]
    share: float  # in [0, 1]
    n_source_units: int

    def sentence(self, from_layer: str) -> str:
        ranks = ", ".join(
            f"{from_layer}:{c.unit} is #{c.rank} ({'+' if c.value >= 0 else '−'})" for c in self.connections
        )
        return f"{ranks} of {self.n_source_units}; together {self.share:.1%} of the total strength"


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitConnections:
    """One target unit's incoming connections: ``kernels`` float32 ``[kh, kw, C_source]``."""

    unit: int
    method: ConnectionMethod
    kernels: np.ndarray = field(repr=False)

    @property
    def strengths(self) -> np.ndarray:
        flat = self.kernels.reshape(-1, self.kernels.shape[-1])
        return np.sqrt((flat.astype(np.float64) ** 2).sum(axis=0))

    @property
    def values(self) -> np.ndarray:
        return self.kernels.reshape(-1, self.kernels.shape[-1]).astype(np.float64).sum(axis=0)

    def ranked(self) -> tuple[Connection, ...]:
        strengths, values = self.strengths, self.values
        order = np.argsort(-strengths, kind="stable")
        return tuple(
            Connection(unit=int(u), rank=r + 1, strength=float(strengths[u]), value=float(values[u]))
            for r, u in enumerate(order)
        )

    def top(self, k: int = DEFAULT_TOP) -> tuple[tuple[Connection, ...], tuple[Connection, ...]]:
        """The ``k`` strongest excitatory and the ``k`` strongest inhibitory source units."""
        ranked = self.ranked()
        return tuple(c for c in ranked if c.value > 0)[:k], tuple(c for c in ranked if c.value < 0)[:k]

    def claim(self, units: Sequence[int]) -> ClaimCheck:
        by_unit = {c.unit: c for c in self.ranked()}
        total = float(self.strengths.sum())
        named = tuple(by_unit[int(u)] for u in units)
        share = sum(c.strength for c in named) / total if total > 0 else 0.0
        return ClaimCheck(connections=named, share=share, n_source_units=len(by_unit))

    def to_dict(self, top: int = DEFAULT_TOP) -> dict[str, Any]:
        excitatory, inhibitory = self.top(top)
        return {
            "unit": self.unit,
            "excitatory": [c.to_dict() for c in excitatory],
            "inhibitory": [c.to_dict() for c in inhibitory],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionsResult:
    """A whole layer pair: ``kernels`` float32 ``[C_target, kh, kw, C_source]``.

    ``window`` is the cropped region of the source layer ``(top, left, height, width)`` that
    reaches the target's centre position ``centre`` (both None for non-spatial layers or for
    attribution). ``seconds`` is the compute time of the whole pair.
    """

    model_id: str
    revision: str
    layer: str
    from_layer: str
    method: ConnectionMethod
    centre: tuple[int, int] | None
    window: tuple[int, int, int, int] | None
    dataset_sha256: str | None
    n_examples: int
    seconds: float
    kernels: np.ndarray = field(repr=False)
    cached: bool = False

    @property
    def target_units(self) -> int:
        return int(self.kernels.shape[0])

    @property
    def source_units(self) -> int:
        return int(self.kernels.shape[-1])

    def unit(self, unit: int) -> UnitConnections:
        if isinstance(unit, bool) or not isinstance(unit, int | np.integer) or not 0 <= unit < self.target_units:
            raise AnalysisInputError(
                f"unit {unit!r} is out of range; layer {self.layer!r} has units 0-{self.target_units - 1}"
            )
        return UnitConnections(unit=int(unit), method=self.method, kernels=self.kernels[unit])

    def outgoing(self, source_unit: int, k: int = DEFAULT_TOP) -> tuple[Connection, ...]:
        """The ``k`` target units that ``source_unit`` of ``from_layer`` feeds most strongly."""
        kernels = self.kernels[..., source_unit].reshape(self.target_units, -1).astype(np.float64)
        strengths, values = np.sqrt((kernels**2).sum(axis=1)), kernels.sum(axis=1)
        order = np.argsort(-strengths, kind="stable")[:k]
        return tuple(
            Connection(unit=int(u), rank=r + 1, strength=float(strengths[u]), value=float(values[u]))
            for r, u in enumerate(order)
        )

    def to_dict(self, unit: int | None = None, *, top: int = DEFAULT_TOP, claim: Sequence[int] = ()) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.model_id,
            "revision": self.revision,
            "layer": self.layer,
            "from_layer": self.from_layer,
            "method": self.method.value,
            "centre": list(self.centre) if self.centre else None,
            "window": dict(zip(("top", "left", "height", "width"), self.window, strict=True)) if self.window else None,
            "kernel_shape": list(self.kernels.shape[1:]),
            "dataset_sha256": self.dataset_sha256,
            "n_examples": self.n_examples,
            "seconds": round(self.seconds, 3),
            "cached": self.cached,
        }
        if unit is not None:
            connections = self.unit(unit)
            payload["unit"] = unit
            payload.update({k: v for k, v in connections.to_dict(top).items() if k != "unit"})
            if claim:
                check = connections.claim(claim)
                payload["claim"] = {
                    "units": [c.to_dict() for c in check.connections],
                    "share": check.share,
                    "sentence": check.sentence(self.from_layer),
                }
        return payload

    def to_npz(self) -> dict[str, np.ndarray]:
        meta = {
            "model_id": self.model_id,
            "revision": self.revision,
            "layer": self.layer,
            "from_layer": self.from_layer,
            "method": self.method.value,
            "centre": self.centre,
            "window": self.window,
            "dataset_sha256": self.dataset_sha256,
            "n_examples": self.n_examples,
            "seconds": self.seconds,
        }
        return {"kernels": self.kernels, "meta_json": np.array(json.dumps(meta))}

    @classmethod
    def from_npz(cls, arrays: dict[str, np.ndarray], *, cached: bool) -> ConnectionsResult:
        meta = json.loads(str(arrays["meta_json"]))
        meta["centre"] = tuple(meta["centre"]) if meta["centre"] else None
        meta["window"] = tuple(meta["window"]) if meta["window"] else None
        meta["method"] = ConnectionMethod(meta["method"])
        return cls(**meta, kernels=np.asarray(arrays["kernels"], np.float32), cached=cached)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Resolved:
    spec: ConnectionsSpec
    revision: RevisionRecord
    from_layer: str
    dataset_path: str | None
    dataset_sha256: str | None

    def key(self) -> str:
        params: dict[str, Any] = {"layer": self.spec.layer, "from": self.from_layer, "method": self.spec.method.value}
        if self.spec.method is ConnectionMethod.ATTRIBUTION:
            params |= {
                "dataset_sha256": self.dataset_sha256,
                "n_examples": self.spec.n_examples,
                "seed": self.spec.seed,
            }
        return make_key(
            revision=self.revision.revision, analysis=ANALYSIS_NAME, params=params, code_version=CODE_VERSION
        )


def _resolve(spec: ConnectionsSpec, registry: ModelRegistry | None) -> _Resolved:
    registry = registry or ModelRegistry()
    revision = registry.resolve(spec.model_id, spec.revision)
    from_layer = resolve_from_layer(revision, spec.layer, spec.from_layer)
    dataset_path = dataset_sha256 = None
    if spec.method is ConnectionMethod.ATTRIBUTION:
        dataset = registry.get(spec.model_id).dataset(DatasetRole.DATA)
        if dataset is None:
            raise AnalysisInputError(
                f"method 'attribution' runs on the linked data set, and model {spec.model_id!r} has none; "
                "use method 'weights' or link a data set"
            )
        dataset_path, dataset_sha256 = dataset.path, dataset.sha256
    return _Resolved(
        spec=spec,
        revision=revision,
        from_layer=from_layer,
        dataset_path=dataset_path,
        dataset_sha256=dataset_sha256,
    )


def _open(store: ResultStore | None) -> ResultStore:
    if store is not None:
        return store
    from analysis.paths import open_result_store

    return open_result_store()


def load_cached_connections(
    spec: ConnectionsSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> ConnectionsResult | None:
    """The cached layer pair for ``spec``, or None; never imports TensorFlow."""
    arrays = _open(store).get(_resolve(spec, registry).key(), NPZ)
    return None if arrays is None else ConnectionsResult.from_npz(arrays, cached=True)


def _crop(gradients: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int] | None]:
    """``[C_t, H, W, C_s]`` cropped to the rows and columns where any gradient is non-zero."""
    if gradients.ndim != 4:
        return gradients.reshape(len(gradients), 1, 1, -1), None
    reach = np.abs(gradients).max(axis=(0, 3)) > 0
    rows, cols = np.flatnonzero(reach.any(axis=1)), np.flatnonzero(reach.any(axis=0))
    if not len(rows):
        return gradients[:, :1, :1], (0, 0, 1, 1)
    top, left = int(rows[0]), int(cols[0])
    height, width = int(rows[-1]) - top + 1, int(cols[-1]) - left + 1
    return gradients[:, top : top + height, left : left + width], (top, left, height, width)


def compute_connections(
    spec: ConnectionsSpec,
    *,
    model: Any = None,
    progress: Progress | None = None,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> ConnectionsResult:
    """The layer pair's connections, from the cache or computed in batched passes (imports TensorFlow)."""
    resolved = _resolve(spec, registry)

    def compute() -> dict[str, np.ndarray]:
        from analysis.microscope import circuit_gradients

        loaded = model
        if loaded is None:
            from analysis.models.loading import load_revision

            loaded = load_revision(resolved.revision)
        started = time.perf_counter()
        circuit_gradients.check_path(
            loaded, resolved.from_layer, spec.layer, earlier_layers(resolved.revision, spec.layer)
        )
        if progress:
            progress(0.0, f"{spec.method.value}: {resolved.from_layer} -> {spec.layer}")
        centre = window = None
        n_examples = 0
        if spec.method is ConnectionMethod.WEIGHTS:
            gradients = circuit_gradients.expanded_weights(
                loaded, resolved.from_layer, spec.layer, batch_size=spec.batch_size
            )
            kernels, window = _crop(gradients)
            shape = resolved.revision.summary.layer(spec.layer).output_shape
            centre = (shape[0] // 2, shape[1] // 2) if len(shape) == 3 else None
        else:
            x = load_npz(Path(resolved.dataset_path))["x"]
            rng = np.random.default_rng(spec.seed)
            n_examples = min(spec.n_examples, len(x))
            chosen = np.sort(rng.choice(len(x), size=n_examples, replace=False))
            totals = circuit_gradients.attribution(
                loaded, resolved.from_layer, spec.layer, np.asarray(x[chosen], np.float32), batch_size=spec.batch_size
            )
            kernels = totals[:, None, None, :]
        if progress:
            progress(1.0, "done")
        result = ConnectionsResult(
            model_id=spec.model_id,
            revision=resolved.revision.revision,
            layer=spec.layer,
            from_layer=resolved.from_layer,
            method=spec.method,
            centre=centre,
            window=window,
            dataset_sha256=resolved.dataset_sha256,
            n_examples=n_examples,
            seconds=time.perf_counter() - started,
            kernels=np.asarray(kernels, np.float32),
        )
        return result.to_npz()

    fetched = _open(store).get_or_compute(resolved.key(), compute, NPZ)
    return ConnectionsResult.from_npz(fetched.value, cached=fetched.from_cache)
