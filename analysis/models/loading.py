"""Loading a registered model file into Keras, and describing it (imports TensorFlow)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError
from analysis.models.files import TRUST_HINT, check_safe, detect_format
from analysis.models.graphdef import load_graphdef
from analysis.models.revisions import RevisionRecord, check_revision_available
from analysis.models.summary import LayerInfo, ModelFormat, ModelSummary, OutputKind

# Layers that only pass values through or preprocess the input have no units of their own.
_NO_UNITS = {
    "InputLayer",
    "Dropout",
    "Flatten",
    "Reshape",
    "SpatialDropout2D",
    "GaussianNoise",
    "Rescaling",
    "Normalization",
}


def load_keras_model(
    path: Path, *, trust_model_code: bool = False, input_name: str | None = None, input_size: int | None = None
) -> Any:
    """A ``keras.Model`` for ``path``; every failure is an AnalysisInputError naming the file.

    A frozen GraphDef ``.pb`` gives an :class:`analysis.models.graphdef.GraphDefModel` instead;
    ``input_name`` (its input placeholder) and ``input_size`` apply only to GraphDefs.
    """
    model_format = detect_format(path)
    if model_format is ModelFormat.GRAPHDEF:
        return load_graphdef(path, input_name=input_name, input_size=input_size)
    if input_name is not None or input_size is not None:
        raise AnalysisInputError(
            f"--input-name and --input-size apply to frozen GraphDef (.pb) models only; {str(path)!r} is "
            f"{model_format.value}"
        )
    check_safe(path, model_format, trust_model_code=trust_model_code)
    import keras

    try:
        if model_format is ModelFormat.SAVEDMODEL:
            return _wrap_savedmodel(path)
        return keras.saving.load_model(path, compile=False, safe_mode=not trust_model_code)
    except AnalysisInputError:
        raise
    except Exception as error:
        text = str(error)
        if "Lambda" in text or "safe_mode" in text:
            raise AnalysisInputError(f"model {str(path)!r} contains a Lambda layer. {TRUST_HINT}") from error
        if "Could not locate" in text or "Unknown layer" in text or "Unknown object" in text:
            raise AnalysisInputError(
                f"model {str(path)!r} uses a custom class that is not available here ({text.splitlines()[0]}); "
                "import the module that defines it before loading, or re-save the model with built-in layers"
            ) from error
        raise AnalysisInputError(
            f"model file {str(path)!r} could not be loaded as {model_format.value}: it is corrupt, "
            f"truncated or not a Keras model ({type(error).__name__}: {text.splitlines()[0] if text else ''})"
        ) from error


def _wrap_savedmodel(path: Path) -> Any:
    """A Keras model around a SavedModel's ``serving_default`` signature (inference only)."""
    import keras
    import tensorflow as tf

    loaded = tf.saved_model.load(str(path))
    signature = loaded.signatures.get("serving_default")
    if signature is None:
        raise AnalysisInputError(f"SavedModel {str(path)!r} has no 'serving_default' signature")
    specs = list(signature.structured_input_signature[1].values())
    if len(specs) != 1:
        raise AnalysisInputError(f"SavedModel {str(path)!r} takes {len(specs)} inputs; Loupe supports one")
    layer = keras.layers.TFSMLayer(str(path), call_endpoint="serving_default", name="savedmodel")
    inputs = keras.Input(shape=tuple(specs[0].shape[1:]), dtype=specs[0].dtype.name)
    outputs = layer(inputs)
    if isinstance(outputs, dict):
        if len(outputs) != 1:
            raise AnalysisInputError(f"SavedModel {str(path)!r} has {len(outputs)} outputs; Loupe supports one")
        outputs = next(iter(outputs.values()))
    return keras.Model(inputs, outputs, name=path.name)


def describe_model(model: Any, model_format: ModelFormat) -> ModelSummary:
    """Input/output format, preprocessing range and the layers that have units."""
    if model_format is ModelFormat.GRAPHDEF:
        return model.describe()
    input_shape = tuple(model.inputs[0].shape[1:])
    output_shape = tuple(model.outputs[0].shape[1:])
    low, high, source = _input_range(model)
    layers = tuple(_unit_layers(model)) if model_format is not ModelFormat.SAVEDMODEL else ()
    notes = (
        ("A SavedModel exposes only its serving signature; save the model as .keras for unit-level analysis.",)
        if model_format is ModelFormat.SAVEDMODEL
        else ()
    )
    return ModelSummary(
        format=model_format,
        input_shape=input_shape,
        input_range=(low, high),
        input_range_source=source,
        output_shape=output_shape,
        output_kind=_output_kind(model, output_shape),
        parameter_count=int(model.count_params()),
        layers=layers,
        notes=notes,
    )


def _unit_layers(model: Any) -> list[LayerInfo]:
    infos = []
    for layer in model.layers:
        kind = type(layer).__name__
        if kind in _NO_UNITS:
            continue
        try:
            shape = tuple(layer.output.shape[1:])
        except (AttributeError, ValueError):  # layers called several times, or with several outputs
            continue
        if len(shape) not in (1, 2, 3) or shape[-1] is None:
            continue
        infos.append(
            LayerInfo(name=layer.name, kind=kind, output_shape=tuple(int(d or 0) for d in shape), units=int(shape[-1]))
        )
    return infos


def _input_range(model: Any) -> tuple[float, float, str]:
    """The value range of raw inputs, from a leading Rescaling layer when there is one."""
    for layer in model.layers:
        kind = type(layer).__name__
        if kind == "InputLayer":
            continue
        if kind == "Rescaling":
            scale, offset = float(layer.scale), float(layer.offset)
            if scale > 0 and math.isclose(offset, 0.0, abs_tol=1e-6):
                return 0.0, round(1.0 / scale, 6), "inferred from the model's Rescaling layer (maps to [0, 1])"
            if scale > 0 and math.isclose(offset, -1.0, abs_tol=1e-6):
                return 0.0, round(2.0 / scale, 6), "inferred from the model's Rescaling layer (maps to [-1, 1])"
        break
    return 0.0, 1.0, "default [0, 1] (no Rescaling layer found; pass --input-range LO,HI to override)"


def _output_kind(model: Any, output_shape: tuple[int | None, ...]) -> OutputKind:
    last = model.layers[-1]
    config = last.get_config() if hasattr(last, "get_config") else {}
    activation = config.get("activation")
    if type(last).__name__ == "Softmax":
        activation = "softmax"
    width = output_shape[-1] if output_shape else None
    if activation == "softmax":
        return OutputKind.PROBABILITIES
    if activation == "sigmoid" and width == 1:
        return OutputKind.BINARY_PROBABILITY
    if activation in (None, "linear") and width and width > 1:
        return OutputKind.LOGITS
    return OutputKind.VALUES


def load_revision(revision: RevisionRecord, *, keras_needed_for: str | None = None) -> Any:
    """The ``keras.Model`` of a registered revision (a :class:`analysis.models.revisions.RevisionRecord`).

    Checks first that the file still holds that revision, so a stale link fails clearly.
    ``keras_needed_for`` names an analysis that needs a real Keras model (e.g. "privacy
    audits"): a frozen GraphDef, which only the Microscope supports, is then refused clearly.
    """
    if keras_needed_for and revision.summary.format is ModelFormat.GRAPHDEF:
        raise AnalysisInputError(
            f"model {revision.model_id!r} is a frozen GraphDef; {keras_needed_for} need a Keras model "
            "(.keras or .h5). GraphDef models can be browsed in the Microscope only."
        )
    check_revision_available(revision)
    return load_keras_model(
        Path(revision.path), trust_model_code=revision.trusted, input_name=revision.summary.input_name
    )
