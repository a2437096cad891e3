"""Feature visualization: a native TF2/Keras 3 port of lucid's method (see docs/microscope.md).

Importing this package does not import TensorFlow. The TensorFlow-free API::

    RenderSpec, UnitRendering, ObjectiveKind, microscope_url        (spec)
    resolve_render, load_cached_rendering, load_cached_renderings,
    cached_targets                                                   (cached)

and, importing TensorFlow only when something must be rendered::

    render_units(spec, *, model=None, progress=None) -> list[UnitRendering]
"""

from __future__ import annotations

from typing import Any

from analysis.microscope.featurevis.cached import (
    cached_targets,
    load_cached_rendering,
    load_cached_renderings,
    resolve_render,
)
from analysis.microscope.featurevis.spec import CODE_VERSION, ObjectiveKind, RenderSpec, UnitRendering, microscope_url

__all__ = [
    "CODE_VERSION",
    "ObjectiveKind",
    "RenderSpec",
    "UnitRendering",
    "cached_targets",
    "load_cached_rendering",
    "load_cached_renderings",
    "microscope_url",
    "render_units",
    "resolve_render",
]


def __getattr__(name: str) -> Any:
    if name == "render_units":
        from analysis.microscope.featurevis.render import render_units

        return render_units
    raise AttributeError(name)
