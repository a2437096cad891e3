"""What Loupe knows about a model without loading it: format, shapes, output kind, layers with units.

Pure data: no TensorFlow, no file access. ``ModelSummary`` is stored in the registry as JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices


class ModelFormat(StrEnum):
    KERAS = "keras"
    H5 = "h5"
    SAVEDMODEL = "savedmodel"
    GRAPHDEF = "graphdef"  # a frozen TF GraphDef .pb (analysis.models.graphdef)


class OutputKind(StrEnum):
    """What a model's output holds, read from its last layer (stored in the registry by value)."""

    PROBABILITIES = "probabilities"  # a softmax over classes
    BINARY_PROBABILITY = "binary_probability"  # one sigmoid unit: the probability of class 1
    LOGITS = "logits"  # a linear layer with more than one unit
    VALUES = "values"  # anything else (regression outputs, features)


def units_text(n: int) -> str:
    """``1 unit``, ``32 units``: a count of units in words (singular for one)."""
    return f"{n} unit" if n == 1 else f"{n} units"


@dataclass(frozen=True, slots=True, kw_only=True)
class LayerInfo:
    """A layer with units: ``output_shape`` excludes the batch axis; ``units`` is its last axis."""

    name: str
    kind: str
    output_shape: tuple[int, ...]
    units: int

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "output_shape": list(self.output_shape), "units": self.units}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LayerInfo:
        return cls(name=data["name"], kind=data["kind"], output_shape=tuple(data["output_shape"]), units=data["units"])


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelSummary:
    """What Loupe knows about a model file without loading it again.

    ``input_range`` is the value range the model expects per input element (its
    preprocessing), e.g. ``(0.0, 1.0)``, or ``(0.0, 255.0)`` when it starts with a
    ``Rescaling(1/255)`` layer; ``input_range_source`` says how it was found.
    """

    format: ModelFormat
    input_shape: tuple[int | None, ...]
    input_range: tuple[float, float]
    input_range_source: str
    output_shape: tuple[int | None, ...]
    output_kind: OutputKind  # a string is accepted and parsed
    parameter_count: int
    layers: tuple[LayerInfo, ...]
    notes: tuple[str, ...] = field(default=())
    input_name: str | None = None  # a GraphDef's input placeholder (None for Keras models)

    def __post_init__(self) -> None:
        object.__setattr__(self, "output_kind", OutputKind(self.output_kind))

    @property
    def n_classes(self) -> int | None:
        last = self.output_shape[-1] if self.output_shape else None
        if self.output_kind is OutputKind.BINARY_PROBABILITY:
            return 2
        return last if self.output_kind in (OutputKind.PROBABILITIES, OutputKind.LOGITS) else None

    def layer(self, name: str) -> LayerInfo:
        for info in self.layers:
            if info.name == name:
                return info
        raise AnalysisInputError(
            f"unknown layer {name!r}; layers with units are {describe_choices(i.name for i in self.layers)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format.value,
            "input_shape": list(self.input_shape),
            "input_range": list(self.input_range),
            "input_range_source": self.input_range_source,
            "output_shape": list(self.output_shape),
            "output_kind": self.output_kind.value,
            "n_classes": self.n_classes,
            "parameter_count": self.parameter_count,
            "layers": [layer.to_dict() for layer in self.layers],
            "notes": list(self.notes),
            **({"input_name": self.input_name} if self.input_name is not None else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSummary:
        return cls(
            format=ModelFormat(data["format"]),
            input_shape=tuple(data["input_shape"]),
            input_range=(float(data["input_range"][0]), float(data["input_range"][1])),
            input_range_source=data["input_range_source"],
            output_shape=tuple(data["output_shape"]),
            output_kind=OutputKind(data["output_kind"]),
            parameter_count=int(data["parameter_count"]),
            layers=tuple(LayerInfo.from_dict(d) for d in data["layers"]),
            notes=tuple(data.get("notes", ())),
            input_name=data.get("input_name"),
        )
