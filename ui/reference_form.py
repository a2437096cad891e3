"""The /privacy form's reference-model part: K, the engine and the training recipe of LiRA/RMIA audits.

Shown only when a reference attack is chosen. The recipe is prefilled from the one registered with
the model's current revision (``ModelRegistry.training_recipe``), else Loupe's defaults, and the form
says which. Values are read as typed; :meth:`ReferenceChoice.options` builds the
:class:`ReferenceOptions` when the audit starts, so an odd or too small K is refused there with the
spec's own message. The audit resolves the recipe itself (registered, else defaults); the form
passes only the fields the visitor changed, as overrides, so the record says where each came from.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import Any

import streamlit as st

from analysis.datasets import DatasetRole
from analysis.errors import AnalysisInputError
from analysis.models.registry import ModelRecord
from analysis.models.summary import ModelFormat
from analysis.privacy.reference_models import MIN_POOL, NOT_CLONABLE, POOL_TOO_SMALL
from analysis.privacy.reference_spec import (
    AUGMENTATIONS,
    OPTIMIZERS,
    RECIPE_FIELDS,
    ReferenceEngine,
    ReferenceOptions,
    TrainingRecipe,
)
from analysis.server_files import allowed_roots
from ui.shared import get_registry

_ENGINES = {ReferenceEngine.LOCAL: "local worker processes", ReferenceEngine.RAY: "Ray (RAY_ADDRESS, else a local one)"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceChoice:
    """What the visitor typed: the number of references, the engine and the recipe's fields."""

    n_references: Any
    engine: ReferenceEngine
    recipe: dict[str, Any]
    population: str = ""

    def options(self, model: ModelRecord, *, files_given: bool) -> ReferenceOptions:
        """The audit's reference options; AnalysisInputError naming a bad value and the valid ones.

        Also refuses, before anything starts, what the registry already tells: a model that cannot
        be cloned (a frozen GraphDef) and a linked population below the references' minimum.
        """
        from analysis.server_files import resolve_allowed_path

        typed = TrainingRecipe.from_mapping(self.recipe, where="the form's recipe")
        prefilled, _ = registered_recipe(model)
        options = ReferenceOptions(  # the fields changed from the prefill are recorded as set by hand
            n_references=self.n_references,
            recipe_overrides={
                name: getattr(typed, name) for name in RECIPE_FIELDS if getattr(typed, name) != getattr(prefilled, name)
            },
            engine=self.engine,
            population=resolve_allowed_path(self.population, allowed_roots()) if self.population.strip() else None,
        )
        if model.current.summary.format is ModelFormat.GRAPHDEF:
            raise AnalysisInputError(
                NOT_CLONABLE.format(model=model.model_id, why="it is a frozen GraphDef, not a Keras model")
            )
        n = linked_population(model)
        if not files_given and options.population is None and n is not None and n < MIN_POOL:
            raise AnalysisInputError(POOL_TOO_SMALL.format(n=n, minimum=MIN_POOL))
        return options


def registered_recipe(model: ModelRecord) -> tuple[TrainingRecipe, str]:
    """The recipe to prefill and a sentence saying where it comes from."""
    revision = model.current.revision
    stored = get_registry().training_recipe(model.model_id, revision)
    if stored is None:
        return TrainingRecipe(), (
            f"No training recipe is registered with {model.model_id} (revision {revision[:12]}): "
            "these are Loupe's defaults. Set them to how the model was trained."
        )
    try:
        return TrainingRecipe.from_mapping(dict(stored), where="the registered recipe"), (
            f"Prefilled from the training recipe registered with {model.model_id} (revision {revision[:12]})."
        )
    except AnalysisInputError as error:
        return TrainingRecipe(), f"The registered recipe cannot be used ({error}); these are Loupe's defaults."


def reference_fields(model: ModelRecord) -> ReferenceChoice:
    """The reference part of the form (inside a bordered container): K, engine, recipe, and the cost."""
    recipe, origin = registered_recipe(model)
    key = f"ref-{model.model_id}"  # per model, so switching models prefills again
    with st.container(border=True):
        st.markdown("**Reference models**")
        k = st.number_input(
            "Reference models K (even, 2 to 1024)",
            min_value=0,
            value=16,
            step=2,
            key=f"{key}-k",
            help="References come in complementary pairs, so each example is IN for exactly half of them.",
        )
        st.caption(
            "LiRA wants many (its per-example variance from 64 on; below that a shared one); RMIA works with few."
        )
        engines = [e for e in ReferenceEngine if e is ReferenceEngine.LOCAL or importlib.util.find_spec("ray")]
        engine = st.radio("Engine", engines, format_func=lambda e: _ENGINES[e], horizontal=True, key=f"{key}-engine")
        st.caption(origin)
        left, middle, right = st.columns(3)
        epochs = left.number_input("Epochs", min_value=0, value=recipe.epochs, step=1, key=f"{key}-epochs")
        batch = middle.number_input("Batch size", min_value=0, value=recipe.batch_size, step=1, key=f"{key}-batch")
        rate = right.number_input(
            "Learning rate", min_value=0.0, value=float(recipe.learning_rate), format="%g", key=f"{key}-rate"
        )
        left, right = st.columns(2)
        optimizer = left.selectbox(
            "Optimizer", OPTIMIZERS, index=OPTIMIZERS.index(recipe.optimizer), key=f"{key}-optimizer"
        )
        augmentation = right.selectbox(
            "Augmentation",
            AUGMENTATIONS,
            index=AUGMENTATIONS.index(recipe.augmentation),
            format_func=lambda a: {"off": "off", "flip": "random left-right flips (images)"}[a],
            key=f"{key}-augmentation",
        )
        population = ""
        if allowed_roots():
            population = st.text_input(
                "Population .npz (optional)",
                key=f"{key}-population",
                help="More examples (x, y) from the same distribution that the model did not train on.",
            )
        st.caption(cost_estimate(model, int(k), int(epochs)))
    return ReferenceChoice(
        population=population,
        n_references=int(k),
        engine=ReferenceEngine(engine),
        recipe={
            "epochs": int(epochs),
            "batch_size": int(batch),
            "optimizer": optimizer,
            "learning_rate": float(rate),
            "augmentation": augmentation,
        },
    )


def linked_population(model: ModelRecord) -> int | None:
    """Examples the references split: the linked members and non-members (or the whole linked data set)."""
    members, nonmembers = model.dataset(DatasetRole.MEMBERS), model.dataset(DatasetRole.NONMEMBERS)
    if members and nonmembers:
        return members.n_examples + nonmembers.n_examples
    data = model.dataset(DatasetRole.DATA)
    return data.n_examples if data and data.has_split else None


def cost_estimate(model: ModelRecord, k: int, epochs: int) -> str:
    """The training the audit asks for, in epochs over the linked population, and the caching rule."""
    n = linked_population(model)
    population = f"{n:,} examples (members and non-members)" if n else "the members and non-members"
    passes = f" = {k * epochs * n // 2:,} example passes" if n else ""
    return (
        f"Cost: {k} references × {epochs} epochs, each over half of {population}{passes}, about "
        f"{k * epochs // 2:,} epochs of training the model on all of them. Trained references are cached "
        "(by architecture, recipe, data and seed): an interrupted audit resumes, and a second audit with more "
        "references trains only the new ones."
    )
