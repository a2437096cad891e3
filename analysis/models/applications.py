"""``keras.applications`` models from a local weights file, with their preprocessing folded in.

Each application expects its inputs preprocessed by its module's ``preprocess_input`` (e.g.
MobileNetV2 wants [-1, 1], VGG16 wants BGR minus the ImageNet mean). Loupe represents that
honestly by saving a model whose *raw* input is RGB in [0, 255]: the application is built on
top of two leading layers, ``Rescaling(1/255, name="raw_to_unit")`` (so the registry infers
the input range [0, 255]) and ``<mode>_preprocessing`` mapping [0, 1] to what the application
expects. For ``caffe`` mode the RGB -> BGR flip is folded into the first convolution's kernel
(its input channels are reversed), which is exactly equivalent. The model is saved as
``<LOUPE_HOME>/applications/<id>.keras`` and registered like any other ``.keras`` file.

Nothing is ever downloaded: the weights come from a file the user provides. When it is
missing, the message names the file Keras would have downloaded and where Keras caches it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError, describe_choices
from analysis.paths import loupe_home

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)  # "torch" mode, on [0, 1] inputs
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)
CAFFE_MEAN_RGB = (123.68, 116.779, 103.939)  # "caffe" mode subtracts these from BGR [0, 255] (listed here in RGB)


class PreprocessingMode(StrEnum):
    """What an application's ``preprocess_input`` does to RGB inputs in [0, 255]."""

    TF = "tf"  # x / 127.5 - 1, i.e. [-1, 1]
    TORCH = "torch"  # (x / 255 - ImageNet mean) / ImageNet std, per channel
    CAFFE = "caffe"  # RGB -> BGR, then minus the ImageNet mean (in [0, 255])
    BUILT_IN = "built_in"  # the model preprocesses itself; it takes [0, 255]


@dataclass(frozen=True, slots=True)
class Application:
    """An application's preprocessing mode and default (ImageNet) input size in pixels."""

    mode: PreprocessingMode
    default_size: int = 224


_TF, _TORCH, _CAFFE, _BUILT_IN = (
    PreprocessingMode.TF,
    PreprocessingMode.TORCH,
    PreprocessingMode.CAFFE,
    PreprocessingMode.BUILT_IN,
)
# Modes from each keras.applications module's preprocess_input (Keras 3.15).
APPLICATIONS: Mapping[str, Application] = {
    **{f"ConvNeXt{size}": Application(_BUILT_IN) for size in ("Tiny", "Small", "Base", "Large", "XLarge")},
    **{f"DenseNet{depth}": Application(_TORCH) for depth in (121, 169, 201)},
    **{
        f"EfficientNetB{i}": Application(_BUILT_IN, size)
        for i, size in enumerate((224, 240, 260, 300, 380, 456, 528, 600))
    },
    **{f"EfficientNetV2B{i}": Application(_BUILT_IN, size) for i, size in enumerate((224, 240, 260, 300))},
    "EfficientNetV2S": Application(_BUILT_IN, 384),
    "EfficientNetV2M": Application(_BUILT_IN, 480),
    "EfficientNetV2L": Application(_BUILT_IN, 480),
    "InceptionResNetV2": Application(_TF, 299),
    "InceptionV3": Application(_TF, 299),
    "MobileNet": Application(_TF),
    "MobileNetV2": Application(_TF),
    "MobileNetV3Small": Application(_BUILT_IN),
    "MobileNetV3Large": Application(_BUILT_IN),
    "NASNetMobile": Application(_TF),
    "NASNetLarge": Application(_TF, 331),
    **{f"ResNet{depth}": Application(_CAFFE) for depth in (50, 101, 152)},
    **{f"ResNet{depth}V2": Application(_TF) for depth in (50, 101, 152)},
    "VGG16": Application(_CAFFE),
    "VGG19": Application(_CAFFE),
    "Xception": Application(_TF, 299),
}
MIN_INPUT_SIZE = 32
MAX_INPUT_SIZE = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class AddApplicationSpec:
    """Register ``keras.applications.<name>`` (with its ImageNet top) under ``model_id``.

    ``weights``: a local weights file (Keras's own ``.h5`` download, or a ``.weights.h5``);
    None looks for Keras's cached download (``~/.keras/models/<file>``). ``input_size``: the
    side of the square RGB input in pixels (None: the application's default, e.g. 224).
    """

    name: str
    model_id: str
    weights: Path | None = None
    input_size: int | None = None
    datasets: Mapping[DatasetRole, Path] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.name not in APPLICATIONS:
            raise AnalysisInputError(
                f"unknown application {self.name!r}; valid names are "
                f"{describe_choices(sorted(APPLICATIONS), limit=len(APPLICATIONS))}"
            )
        size = self.input_size
        if size is not None and (
            isinstance(size, bool) or not isinstance(size, int) or not MIN_INPUT_SIZE <= size <= MAX_INPUT_SIZE
        ):
            raise AnalysisInputError(
                f"input size {size!r} must be an integer from {MIN_INPUT_SIZE} to {MAX_INPUT_SIZE} pixels"
            )

    @property
    def application(self) -> Application:
        return APPLICATIONS[self.name]

    @property
    def size(self) -> int:
        return self.input_size or self.application.default_size


class _WeightsFileRequested(Exception):
    """Raised instead of downloading: carries the file name Keras would fetch."""


_GET_FILE_LOCK = threading.Lock()


def keras_weights_file_name(name: str, input_size: int | None = None) -> str:
    """The file name Keras would download for ``keras.applications.<name>(weights="imagenet")``.

    Found by building the application with ``keras.utils.get_file`` replaced by a function
    that raises, so nothing is downloaded (Keras names some files by input size or alpha).
    """
    import keras
    from keras.src.utils import file_utils

    constructor = getattr(keras.applications, name)
    shapes = ([(input_size, input_size, 3)] if input_size else []) + [None]

    def refuse_download(fname: str | None = None, origin: str | None = None, **kwargs: Any) -> str:
        raise _WeightsFileRequested(fname or os.path.basename(str(origin)))

    with _GET_FILE_LOCK:
        original = file_utils.get_file
        file_utils.get_file = refuse_download
        try:
            for shape in shapes:
                try:
                    constructor(weights="imagenet", input_shape=shape)
                except _WeightsFileRequested as requested:
                    return str(requested.args[0])
                except ValueError:  # e.g. ImageNet weights need another input size: try the default
                    continue
        finally:
            file_utils.get_file = original
    raise AnalysisInputError(f"keras.applications.{name} has no ImageNet weights file")  # pragma: no cover


def keras_cache_path(file_name: str) -> Path:
    """Where Keras caches a downloaded application weights file (``$KERAS_HOME`` or ``~/.keras``, ``models/``)."""
    from keras.src.backend import config

    return Path(config.keras_home()).expanduser() / "models" / file_name


def _weights_path(spec: AddApplicationSpec) -> Path:
    """The weights file to load; a missing one gets a message naming what to provide and where."""
    if spec.weights is not None and Path(spec.weights).expanduser().is_file():
        return Path(spec.weights).expanduser()
    file_name = keras_weights_file_name(spec.name, spec.size)
    cached = keras_cache_path(file_name)
    if spec.weights is None and cached.is_file():
        return cached
    shown = str(Path(spec.weights)) if spec.weights is not None else None
    start = (
        f"weights file {shown!r} does not exist"
        if shown
        else f"no weights file given and none in Keras's cache ({str(cached)!r})"
    )
    raise AnalysisInputError(
        f"{start}: Loupe never downloads weights. Provide {file_name!r} (the ImageNet weights of "
        f"keras.applications.{spec.name}, which Keras would cache as ~/.keras/models/{file_name}) "
        "from a machine with network access, and pass its path with --weights"
    )


def _preprocessing_layers(mode: PreprocessingMode) -> list[Any]:
    """Layers mapping raw RGB [0, 255] to what the application expects."""
    import keras

    layers = [keras.layers.Rescaling(1.0 / 255.0, name="raw_to_unit")]
    name = f"{mode.value}_preprocessing"
    if mode is PreprocessingMode.TF:
        layers.append(keras.layers.Rescaling(2.0, offset=-1.0, name=name))
    elif mode is PreprocessingMode.TORCH:
        scale = [1.0 / s for s in IMAGENET_STD_RGB]
        offset = [-m / s for m, s in zip(IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, strict=True)]
        layers.append(keras.layers.Rescaling(scale, offset=offset, name=name))
    elif mode is PreprocessingMode.CAFFE:
        layers.append(keras.layers.Rescaling(255.0, offset=[-m for m in CAFFE_MEAN_RGB], name=name))
    else:
        layers.append(keras.layers.Rescaling(255.0, name=name))
    return layers


def build_application(spec: AddApplicationSpec, weights: Path) -> Any:
    """The application with ``weights`` loaded and its preprocessing folded in; raw input RGB [0, 255]."""
    import keras

    size = spec.size
    inputs = keras.Input((size, size, 3), name="image")
    x = inputs
    for layer in _preprocessing_layers(spec.application.mode):
        x = layer(x)
    constructor = getattr(keras.applications, spec.name)
    try:
        model = constructor(weights=None, input_tensor=x, input_shape=(size, size, 3))
    except ValueError as error:
        raise AnalysisInputError(
            f"keras.applications.{spec.name} cannot be built at input size {size}: {str(error).splitlines()[0]}"
        ) from error
    try:
        model.load_weights(weights)
    except Exception as error:
        raise AnalysisInputError(
            f"weights file {str(weights)!r} does not fit keras.applications.{spec.name} at input size {size} "
            f"(with its ImageNet top): {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        ) from error
    if spec.application.mode is PreprocessingMode.CAFFE:
        _fold_bgr_flip(model)
    return model


def _fold_bgr_flip(model: Any) -> None:
    """Reverse the first convolution's input channels, so it reads RGB where the weights expect BGR."""
    conv = next(layer for layer in model.layers if type(layer).__name__ == "Conv2D")
    kernel, *rest = conv.get_weights()  # kernel [kh, kw, in, out]
    conv.set_weights([kernel[:, :, ::-1, :], *rest])


def add_application(spec: AddApplicationSpec, *, registry: Any = None) -> Any:
    """Build, save as ``<LOUPE_HOME>/applications/<id>.keras`` and register; returns the ModelRecord."""
    from analysis.models.registry import ModelRegistry, RegisterModelSpec

    registry = registry or ModelRegistry()
    folder = loupe_home() / "applications"
    path = folder / f"{spec.model_id}.keras"
    register = RegisterModelSpec(path=path, model_id=spec.model_id, datasets=dict(spec.datasets))  # checks the id
    model = build_application(spec, _weights_path(spec))
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".{spec.model_id}.partial.keras"
    model.save(partial)
    os.replace(partial, path)
    return registry.register(register)
