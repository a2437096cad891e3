"""Dataset examples and activation statistics for every unit of a layer, in one pass over the data.

For a registered model's linked ``data`` set: per unit, the top-k and bottom-k examples by
channel mean and by spatial max (with their values), a histogram of each statistic over the
data set, and, for layers with ``[height, width, channels]`` outputs, the activation map of
each top example (for a heat overlay). One result per layer, cached in the result store
(NPZ codec). Example indices index the linked ``.npz``'s ``x`` (whatever ``split`` is chosen).

TensorFlow is imported only to compute; :func:`load_cached_dataset_examples` and
:func:`load_example_inputs` do not import it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetInfo, DatasetRole, load_npz
from analysis.errors import AnalysisInputError, describe_choices
from analysis.models.registry import ModelRegistry
from analysis.models.revisions import RevisionRecord
from analysis.models.summary import LayerInfo
from analysis.progress import Progress
from cache import NPZ, ResultStore, make_key

CODE_VERSION = "dataset-examples-2"  # 2: bottom_{mean,max}_ties
ANALYSIS_NAME = "dataset-examples"
DEFAULT_K = 9
DEFAULT_BINS = 40
SPLITS = ("train", "test")


class Ranking(StrEnum):
    MEAN = "mean"  # the unit's mean over positions (what the channel objective maximises)
    MAX = "max"  # the unit's strongest position


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetExamplesSpec:
    """Which layer's examples to compute: ``k`` top and bottom examples per unit, ``bins`` histogram bins.

    ``split`` restricts the pass to ``"train"`` or ``"test"`` examples (None: all examples).
    """

    model_id: str
    layer: str
    revision: str | None = None
    k: int = DEFAULT_K
    bins: int = DEFAULT_BINS
    split: str | None = None
    batch_size: int = 128

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("k", self.k, 1, 100),
            ("bins", self.bins, 2, 1000),
            ("batch_size", self.batch_size, 1, 4096),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise AnalysisInputError(f"{name} {value!r} must be an integer from {low} to {high}")
        if self.split is not None and self.split not in SPLITS:
            raise AnalysisInputError(
                f"unknown split {self.split!r}; valid splits are {describe_choices(SPLITS)} or None"
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitExamples:
    """One unit's examples: indices into the data set's ``x`` and their values, best first."""

    unit: int
    top_mean: tuple[tuple[int, float], ...]
    bottom_mean: tuple[tuple[int, float], ...]
    top_max: tuple[tuple[int, float], ...]
    bottom_max: tuple[tuple[int, float], ...]
    hist_mean: tuple[tuple[int, ...], tuple[float, ...]]  # (counts [bins], edges [bins + 1])
    hist_max: tuple[tuple[int, ...], tuple[float, ...]]
    top_mean_maps: np.ndarray = field(repr=False)  # float32 [k, h, w]; [k, 0, 0] for non-spatial layers
    top_max_maps: np.ndarray = field(repr=False)
    bottom_mean_ties: int = 1  # examples that share the smallest channel mean (e.g. 812 at 0 after a ReLU)
    bottom_max_ties: int = 1

    def ties_at_minimum(self, by: str = "mean", *, shown: int | None = None) -> int | None:
        """How many examples share the unit's minimum when they outnumber those shown, else None.

        ``shown`` defaults to the ``k`` bottom examples listed. When more examples tie, any pick of
        them is arbitrary, and a page should say "812 examples at 0" instead.
        """
        ties = self.bottom_mean_ties if by == "mean" else self.bottom_max_ties
        listed = self.bottom_mean if by == "mean" else self.bottom_max
        return ties if ties > (len(listed) if shown is None else shown) else None

    def to_dict(self) -> dict[str, Any]:
        def pairs(items: tuple[tuple[int, float], ...]) -> list[dict[str, Any]]:
            return [{"index": index, "value": value} for index, value in items]

        return {
            "unit": self.unit,
            "top_mean": pairs(self.top_mean),
            "bottom_mean": pairs(self.bottom_mean),
            "top_max": pairs(self.top_max),
            "bottom_max": pairs(self.bottom_max),
            "hist_mean": {"counts": list(self.hist_mean[0]), "edges": list(self.hist_mean[1])},
            "hist_max": {"counts": list(self.hist_max[0]), "edges": list(self.hist_max[1])},
            "bottom_mean_ties": self.bottom_mean_ties,
            "bottom_max_ties": self.bottom_max_ties,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetExamplesResult:
    """Every unit of one layer. Arrays are indexed ``[unit, rank]`` (rank 0 = most extreme).

    ``arrays`` holds ``{top,bottom}_{mean,max}_{index,value}`` ``[units, k]``,
    ``hist_{mean,max}_{counts,edges}`` ``[units, bins]`` / ``[units, bins + 1]``, and
    ``top_{mean,max}_maps`` float16 ``[units, k, h, w]`` (``h = w = 0`` for non-spatial layers),
    and ``bottom_{mean,max}_ties`` int64 ``[units]``, how many examples share each unit's minimum.
    """

    model_id: str
    revision: str
    layer: str
    dataset_path: str
    dataset_sha256: str
    split: str | None
    n_examples: int
    k: int
    arrays: dict[str, np.ndarray] = field(repr=False)
    cached: bool = False

    @property
    def units(self) -> int:
        return int(self.arrays["top_mean_index"].shape[0])

    @property
    def spatial(self) -> bool:
        return self.arrays["top_mean_maps"].shape[-1] > 0

    def _check_unit(self, unit: int) -> None:
        if isinstance(unit, bool) or not isinstance(unit, int | np.integer) or not 0 <= unit < self.units:
            raise AnalysisInputError(
                f"unit {unit!r} is out of range for layer {self.layer!r}; valid units are 0-{self.units - 1}"
            )

    def strongest(self, unit: int, by: Ranking = Ranking.MEAN) -> float:
        """The unit's strongest activation over the data set, by channel mean or spatial max."""
        self._check_unit(unit)
        return float(self.arrays[f"top_{Ranking(by).value}_value"][unit, 0])

    def unit(self, unit: int) -> UnitExamples:
        self._check_unit(unit)
        a = self.arrays

        def ranked(name: str) -> tuple[tuple[int, float], ...]:
            return tuple(zip(a[f"{name}_index"][unit].tolist(), a[f"{name}_value"][unit].tolist(), strict=True))

        return UnitExamples(
            unit=int(unit),
            top_mean=ranked("top_mean"),
            bottom_mean=ranked("bottom_mean"),
            top_max=ranked("top_max"),
            bottom_max=ranked("bottom_max"),
            hist_mean=(tuple(a["hist_mean_counts"][unit].tolist()), tuple(a["hist_mean_edges"][unit].tolist())),
            hist_max=(tuple(a["hist_max_counts"][unit].tolist()), tuple(a["hist_max_edges"][unit].tolist())),
            top_mean_maps=a["top_mean_maps"][unit].astype(np.float32),
            top_max_maps=a["top_max_maps"][unit].astype(np.float32),
            bottom_mean_ties=int(a["bottom_mean_ties"][unit]),
            bottom_max_ties=int(a["bottom_max_ties"][unit]),
        )

    def to_frame(self) -> Any:
        """One row per unit: its strongest and weakest example values by mean and by max."""
        import pandas as pd

        a = self.arrays
        return pd.DataFrame(
            {
                "unit": np.arange(self.units),
                "top_mean": a["top_mean_value"][:, 0],
                "bottom_mean": a["bottom_mean_value"][:, 0],
                "top_max": a["top_max_value"][:, 0],
                "bottom_max": a["bottom_max_value"][:, 0],
                "top_mean_index": a["top_mean_index"][:, 0],
                "top_max_index": a["top_max_index"][:, 0],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe summary (no maps): metadata and every unit's ranked examples and histograms."""
        return {
            "model": self.model_id,
            "revision": self.revision,
            "layer": self.layer,
            "dataset": {
                "path": self.dataset_path,
                "sha256": self.dataset_sha256,
                "split": self.split,
                "n_examples": self.n_examples,
            },
            "k": self.k,
            "spatial": self.spatial,
            "cached": self.cached,
            "units": [self.unit(u).to_dict() for u in range(self.units)],
        }

    def to_npz(self) -> dict[str, np.ndarray]:
        meta = {
            k: getattr(self, k)
            for k in ("model_id", "revision", "layer", "dataset_path", "dataset_sha256", "split", "n_examples", "k")
        }
        return {**self.arrays, "meta_json": np.array(json.dumps(meta))}

    @classmethod
    def from_npz(cls, arrays: dict[str, np.ndarray], *, cached: bool) -> DatasetExamplesResult:
        meta = json.loads(str(arrays["meta_json"]))
        return cls(**meta, arrays={k: v for k, v in arrays.items() if k != "meta_json"}, cached=cached)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Resolved:
    spec: DatasetExamplesSpec
    revision: RevisionRecord
    layer: LayerInfo
    dataset: DatasetInfo

    def key(self) -> str:
        params = {
            "layer": self.layer.name,
            "k": self.spec.k,
            "bins": self.spec.bins,
            "split": self.spec.split,
            "dataset_sha256": self.dataset.sha256,
        }
        return make_key(
            revision=self.revision.revision, analysis=ANALYSIS_NAME, params=params, code_version=CODE_VERSION
        )


def _resolve(spec: DatasetExamplesSpec, registry: ModelRegistry | None) -> _Resolved:
    registry = registry or ModelRegistry()
    record = registry.get(spec.model_id)
    revision = registry.resolve(spec.model_id, spec.revision)
    layer = revision.summary.layer(spec.layer)
    dataset = record.dataset(DatasetRole.DATA)
    if dataset is None:
        raise AnalysisInputError(
            f"model {spec.model_id!r} has no linked data set; register one with "
            f"'python -m analysis models add MODEL --id {spec.model_id} --data DATA.npz'"
        )
    if spec.split is not None and not dataset.has_split:
        raise AnalysisInputError(
            f"the data set of {spec.model_id!r} has no 'split' array; use split=None (all examples)"
        )
    return _Resolved(spec=spec, revision=revision, layer=layer, dataset=dataset)


def _open(store: ResultStore | None) -> ResultStore:
    if store is not None:
        return store
    from analysis.paths import open_result_store

    return open_result_store()


def dataset_examples_key(spec: DatasetExamplesSpec, registry: ModelRegistry | None = None) -> str:
    """The result store key of ``spec``'s result (names the revision, layer, data set, ``k`` and ``bins``)."""
    return _resolve(spec, registry).key()


def load_cached_dataset_examples(
    spec: DatasetExamplesSpec, *, store: ResultStore | None = None, registry: ModelRegistry | None = None
) -> DatasetExamplesResult | None:
    """The cached result for ``spec``, or None; never imports TensorFlow."""
    arrays = _open(store).get(_resolve(spec, registry).key(), NPZ)
    return None if arrays is None else DatasetExamplesResult.from_npz(arrays, cached=True)


def load_example_inputs(result: DatasetExamplesResult, indices: Any) -> np.ndarray:
    """The data set's inputs ``x[indices]`` (e.g. a unit's top examples), ``[len(indices), ...]``."""
    x = load_npz(Path(result.dataset_path))["x"]
    return x[np.asarray(indices, dtype=np.int64)]


def compute_dataset_examples(
    spec: DatasetExamplesSpec,
    *,
    model: Any = None,
    progress: Progress | None = None,
    store: ResultStore | None = None,
    registry: ModelRegistry | None = None,
) -> DatasetExamplesResult:
    """The layer's dataset examples, from the cache or computed in one pass over the data."""
    resolved = _resolve(spec, registry)
    opened = _open(store)

    def compute() -> dict[str, np.ndarray]:
        from analysis.microscope.activation_stats import run_activation_pass

        arrays = load_npz(Path(resolved.dataset.path))
        x = arrays["x"]
        indices = np.arange(len(x))
        if spec.split is not None:
            indices = indices[arrays["split"] == spec.split]
            if not len(indices):
                raise AnalysisInputError(f"the data set of {spec.model_id!r} has no {spec.split!r} examples")
        loaded = model
        if loaded is None:
            from analysis.models.loading import load_revision

            loaded = load_revision(resolved.revision)
        stats = run_activation_pass(
            loaded,
            spec.layer,
            x,
            indices,
            k=min(spec.k, len(indices)),
            bins=spec.bins,
            batch_size=spec.batch_size,
            progress=progress,
        )
        result = DatasetExamplesResult(
            model_id=spec.model_id,
            revision=resolved.revision.revision,
            layer=spec.layer,
            dataset_path=resolved.dataset.path,
            dataset_sha256=resolved.dataset.sha256,
            split=spec.split,
            n_examples=len(indices),
            k=min(spec.k, len(indices)),
            arrays=stats,
        )
        return result.to_npz()

    fetched = opened.get_or_compute(resolved.key(), compute, NPZ)
    return DatasetExamplesResult.from_npz(fetched.value, cached=fetched.from_cache)
