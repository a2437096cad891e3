"""The one table of feature-visualization techniques: URL name, objective, words, and where each applies.

Every place that lists techniques reads this table: the render spec's objective kinds
(``ObjectiveKind``), the objective each kind optimises (:func:`build_objective`), the
Microscope link's ``view=`` values (``unit_links``) and the page's technique picker, which
offers only the techniques that :meth:`Technique.reason_unavailable` allows on the layer.
Per-unit techniques live on a unit's page (``&unit=N&view=...``); the others on the layer's
(``?model=&layer=&view=deepdream``, ``&view=caricature&example=N``).

No TensorFlow here (links and pages import it): objectives are built lazily, and each
technique declares what it needs of a layer as data. ``tests/analysis/test_techniques.py``
checks the declarations against the objective classes' own ``is_compatible``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from analysis.errors import AnalysisInputError, describe_choices
from analysis.microscope.featurevis.spec import ObjectiveKind
from analysis.models.summary import LayerInfo

if TYPE_CHECKING:
    from analysis.microscope.featurevis.spec import RenderSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class Technique:
    """One technique. ``view`` is its name in Microscope links (None: API and CLI only).

    ``min_rank`` is the smallest layer output rank (without the batch axis) it can read: 3 for
    techniques that need ``[height, width, channels]``, 2 for those that need positions, 1 for any.
    ``needs_example``: the technique starts from one example of the model's linked data set, so
    it applies only when one is linked; its ``objective`` then takes ``(spec, reference)``, the
    reference being the layer's activations on that example.
    """

    kind: ObjectiveKind
    view: str | None
    title: str
    summary: str  # one line for the page: what the image shows
    per_unit: bool
    min_rank: int
    objective: Callable[..., Any]  # the Objective to maximise (imports TensorFlow when called)
    needs_example: bool = False

    def reason_unavailable(self, layer: LayerInfo, *, dataset_linked: bool = True) -> str | None:
        """None when the technique applies to ``layer``; otherwise why not, in words."""
        if len(layer.output_shape) < self.min_rank:
            needs = {3: "[height, width, channels] outputs", 2: "outputs with positions"}[self.min_rank]
            return (
                f"{self.title} needs a layer with {needs}; "
                f"layer {layer.name!r} has output shape {list(layer.output_shape)}"
            )
        if self.needs_example and not dataset_linked:
            return f"{self.title} starts from a dataset example, and no data set is linked to this model"
        return None


def _objectives() -> Any:
    from analysis.microscope.featurevis import objectives  # imports TensorFlow

    return objectives


TECHNIQUES: tuple[Technique, ...] = (
    Technique(
        kind=ObjectiveKind.CHANNEL,
        view="channel",
        title="Channel",
        summary="an image that maximises the unit's mean activation over all positions",
        per_unit=True,
        min_rank=1,
        objective=lambda spec: _objectives().channel(spec.layer),
    ),
    Technique(
        kind=ObjectiveKind.NEURON,
        view="neuron",
        title="Neuron",
        summary="an image that maximises the unit at the centre position only (its receptive field)",
        per_unit=True,
        min_rank=3,
        objective=lambda spec: _objectives().neuron(spec.layer),
    ),
    Technique(
        kind=ObjectiveKind.NEGATIVE,
        view="negative",
        title="Negative",
        summary=(
            "an image that minimises the unit's mean activation; after a ReLU the minimum is 0, so the "
            "image can stay grey with objective value 0"
        ),
        per_unit=True,
        min_rank=1,
        objective=lambda spec: -_objectives().channel(spec.layer),
    ),
    Technique(
        kind=ObjectiveKind.NEGATIVE_NEURON,
        view=None,
        title="Negative neuron",
        summary="an image that minimises the unit at the centre position",
        per_unit=True,
        min_rank=3,
        objective=lambda spec: -_objectives().neuron(spec.layer),
    ),
    Technique(
        kind=ObjectiveKind.DIVERSITY,
        view="diversity",
        title="Diversity",
        summary="several images that each excite the unit but differ from one another (the facets it responds to)",
        per_unit=True,
        min_rank=2,
        objective=lambda spec: (
            _objectives().channel(spec.layer)
            - spec.diversity_weight * _objectives().diversity(spec.layer, spec.diversity_images)
        ),
    ),
    Technique(
        kind=ObjectiveKind.DEEPDREAM,
        view="deepdream",
        title="DeepDream",
        summary="an image that excites the whole layer at once (mean squared activation of every unit)",
        per_unit=False,
        min_rank=1,
        objective=lambda spec: _objectives().deepdream(spec.layer),
    ),
    Technique(
        kind=ObjectiveKind.CARICATURE,
        view="caricature",
        title="Caricature",
        summary=(
            "an image that exaggerates what the whole layer sees in one dataset example (its activations, "
            "matched in direction and pushed further)"
        ),
        per_unit=False,
        min_rank=1,
        needs_example=True,
        objective=lambda spec, reference: _objectives().caricature(spec.layer, reference, spec.caricature_cossim_pow),
    ),
    Technique(
        kind=ObjectiveKind.DIRECTION,
        view=None,
        title="Direction",
        summary="an image that maximises the layer's activations along a given direction of its channel space",
        per_unit=False,
        min_rank=1,
        objective=lambda spec: _objectives().direction(spec.layer, spec.direction or ()),
    ),
)

BY_KIND: dict[ObjectiveKind, Technique] = {t.kind: t for t in TECHNIQUES}
BY_VIEW: dict[str, Technique] = {t.view: t for t in TECHNIQUES if t.view is not None}
VIEWS: tuple[str, ...] = tuple(BY_VIEW)
DEFAULT_VIEW = "channel"


def technique_for_view(view: str) -> Technique:
    """The technique a link's ``view=`` names; AnalysisInputError naming the valid views otherwise."""
    found = BY_VIEW.get(str(view).strip().lower())
    if found is None:
        raise AnalysisInputError(f"unknown view {view!r}; valid views are {describe_choices(VIEWS)}")
    return found


def techniques_for(layer: LayerInfo, *, dataset_linked: bool = True) -> tuple[Technique, ...]:
    """The techniques a page offers on ``layer`` (those with a view that apply to it), in table order."""
    return tuple(
        t
        for t in TECHNIQUES
        if t.view is not None and t.reason_unavailable(layer, dataset_linked=dataset_linked) is None
    )


def build_objective(spec: RenderSpec, *, reference: Any = None) -> Any:
    """The :class:`~analysis.microscope.featurevis.objectives.Objective` a spec's kind optimises.

    ``reference``: for a technique that ``needs_example``, the layer's activations on the
    spec's example (``[...layer output shape]``); ignored otherwise.
    """
    technique = BY_KIND[spec.objective]
    if technique.needs_example:
        if reference is None:
            raise ValueError(f"objective {spec.objective.value!r} needs the layer's activations on its example")
        return technique.objective(spec, reference)
    return technique.objective(spec)
