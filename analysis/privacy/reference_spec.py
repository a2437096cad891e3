"""How reference ("shadow") models are obtained and used: :class:`ReferenceOptions` and :class:`TrainingRecipe`.

Part of :class:`analysis.privacy.spec.MembershipAuditSpec` whenever a reference attack
(``lira``, ``lira-offline``, ``offset``, ``rmia``, ``rmia-offline``) is asked for. Either Loupe
trains ``n_references`` clones of the target on random halves of the population (members,
non-members and an optional ``population`` file), or ``reference_outputs`` names a folder of
output files trained anywhere (format in ``docs/privacy.md``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from analysis.errors import AnalysisInputError, describe_choices

OPTIMIZERS = ("adam", "sgd", "rmsprop")
AUGMENTATIONS = ("off", "flip")
RECIPE_FIELDS = ("epochs", "batch_size", "optimizer", "learning_rate", "augmentation")
RECIPE_ORIGINS = ("file", "given")  # where ReferenceOptions.recipe came from: the CLI's --recipe, or code


class ReferenceEngine(StrEnum):
    """Where references train: local worker processes, or tasks on a Ray cluster."""

    LOCAL = "local"
    RAY = "ray"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingRecipe:
    """How each reference trains: ``epochs`` over its half, ``batch_size``, ``optimizer`` at
    ``learning_rate``; ``augmentation`` ``"flip"`` flips images left-right at random each epoch."""

    epochs: int = 20
    batch_size: int = 64
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    augmentation: str = "off"

    def __post_init__(self) -> None:
        if isinstance(self.epochs, bool) or not isinstance(self.epochs, int) or not 1 <= self.epochs <= 10_000:
            raise AnalysisInputError(f"recipe epochs {self.epochs!r} must be an integer from 1 to 10000")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or not self.batch_size >= 1:
            raise AnalysisInputError(f"recipe batch_size {self.batch_size!r} must be a positive integer")
        if self.optimizer not in OPTIMIZERS:
            raise AnalysisInputError(
                f"recipe optimizer {self.optimizer!r}; optimizers are {describe_choices(OPTIMIZERS)}"
            )
        if not isinstance(self.learning_rate, int | float) or not 0 < self.learning_rate < 10:
            raise AnalysisInputError(f"recipe learning_rate {self.learning_rate!r} must be a number in (0, 10)")
        if self.augmentation not in AUGMENTATIONS:
            raise AnalysisInputError(
                f"recipe augmentation {self.augmentation!r}; choices are {describe_choices(AUGMENTATIONS)}"
            )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], where: str = "the recipe") -> TrainingRecipe:
        """A recipe from a mapping of :data:`RECIPE_FIELDS` (missing ones take the defaults); the
        AnalysisInputError for an unknown field or a bad value names ``where`` and the valid fields."""
        unknown = sorted(set(data) - set(RECIPE_FIELDS))
        if unknown:
            raise AnalysisInputError(
                f"unknown field {unknown[0]!r} in {where}; fields are {describe_choices(RECIPE_FIELDS)}"
            )
        try:
            return cls(**data)
        except AnalysisInputError as error:
            if where == "the recipe":
                raise
            raise AnalysisInputError(f"{where}: {error} (fields are {describe_choices(RECIPE_FIELDS)})") from error

    @classmethod
    def load(cls, path: Path) -> TrainingRecipe:
        """A recipe from a ``.json``, ``.yaml`` or ``.yml`` file of :data:`RECIPE_FIELDS`."""
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as error:
            raise AnalysisInputError(f"cannot read recipe file {str(path)!r}: {error.strerror or error}") from error
        try:
            if path.suffix.lower() in (".yaml", ".yml"):
                import yaml

                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as error:
            raise AnalysisInputError(f"recipe file {str(path)!r} is not valid JSON/YAML: {error}") from error
        if not isinstance(data, dict):
            raise AnalysisInputError(
                f"recipe file {str(path)!r} must hold a mapping of {describe_choices(RECIPE_FIELDS)}"
            )
        return cls.from_mapping(data, where=f"recipe file {str(path)!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipeChoice:
    """Where the references' recipe came from: ``source`` is ``"flags"`` when single fields were
    set by flags (``flags`` names them, applied over ``base``), else ``base`` itself: ``"file"``
    (``--recipe``), ``"given"`` (a recipe in the spec built in code), ``"registration"`` (the
    audited revision's registered recipe) or ``"default"``."""

    source: str
    base: str
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceOptions:
    """Reference models for LiRA, offset and RMIA.

    ``n_references`` (even: references come in complementary pairs, so each example is IN for
    exactly half). The references' training recipe is resolved by :meth:`resolve_recipe`: ``recipe``
    (a whole recipe: the CLI's ``--recipe`` file, ``recipe_origin="file"``, or one given in code) if
    set, else the recipe registered with the audited revision, else the default
    :class:`TrainingRecipe`; then ``recipe_overrides`` (single fields, the CLI's ``--epochs`` ... flags)
    replace just those fields. ``population``: an extra ``.npz`` (``x``, ``y``) of examples
    from the same distribution that the target did not train on; ``reference_outputs``: a folder
    of precomputed reference outputs instead of training; ``fix_variance``: LiRA's shared
    variance (None: shared below 64 references, as the paper advises); ``rmia_a``: RMIA's offline
    parameter (None: tuned on the references); ``rmia_gamma``: RMIA's pairwise threshold.
    """

    n_references: int = 16
    recipe: TrainingRecipe | None = None
    recipe_origin: str = "given"
    recipe_overrides: Mapping[str, Any] = field(default_factory=dict)
    population: Path | None = None
    reference_outputs: Path | None = None
    engine: ReferenceEngine = ReferenceEngine.LOCAL
    fix_variance: bool | None = None
    rmia_a: float | None = None
    rmia_gamma: float = 1.0

    def __post_init__(self) -> None:
        k = self.n_references
        if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 1024 or k % 2:
            raise AnalysisInputError(
                f"reference models {k!r} must be an even number from 2 to 1024 (they train in complementary pairs)"
            )
        object.__setattr__(self, "engine", ReferenceEngine(self.engine))
        if self.recipe_origin not in RECIPE_ORIGINS:
            raise AnalysisInputError(
                f"recipe origin {self.recipe_origin!r}; origins are {describe_choices(RECIPE_ORIGINS)}"
            )
        overrides = dict(self.recipe_overrides)
        TrainingRecipe.from_mapping(overrides)  # unknown fields and bad values, named as the CLI and form show them
        object.__setattr__(self, "recipe_overrides", overrides)
        if self.rmia_a is not None and not 0.0 <= self.rmia_a <= 1.0:
            raise AnalysisInputError(f"RMIA parameter a={self.rmia_a} must be between 0 and 1")
        if not 1.0 <= self.rmia_gamma <= 100.0:
            raise AnalysisInputError(f"RMIA gamma {self.rmia_gamma} must be between 1 and 100")
        if self.reference_outputs is not None and self.population is not None:
            raise AnalysisInputError("--population applies to references Loupe trains; not with --reference-outputs")

    def resolve_recipe(
        self, registered: Mapping[str, Any] | None, where: str = "the registered recipe"
    ) -> tuple[TrainingRecipe, RecipeChoice]:
        """The recipe the references train with, and where it came from.

        Precedence: ``recipe`` > ``registered`` (the recipe stored with the audited revision, a
        plain mapping, checked here on use and named by ``where`` when bad) > the default
        :class:`TrainingRecipe`; ``recipe_overrides`` then replace single fields of that base."""
        if self.recipe is not None:
            base, base_source = self.recipe, self.recipe_origin
        elif registered is not None:
            base, base_source = TrainingRecipe.from_mapping(registered, where=where), "registration"
        else:
            base, base_source = TrainingRecipe(), "default"
        flags = tuple(name for name in RECIPE_FIELDS if name in self.recipe_overrides)
        recipe = TrainingRecipe.from_mapping({**base.to_dict(), **self.recipe_overrides}) if flags else base
        return recipe, RecipeChoice(source="flags" if flags else base_source, base=base_source, flags=flags)

    def shared_variance(self, n_references: int) -> bool:
        return self.fix_variance if self.fix_variance is not None else n_references < 64

    def describe(self) -> dict[str, Any]:
        return {
            "n_references": self.n_references,
            "recipe": None if self.recipe is None else self.recipe.to_dict(),
            "recipe_origin": None if self.recipe is None else self.recipe_origin,
            "recipe_overrides": dict(self.recipe_overrides),
            "population": None if self.population is None else str(Path(self.population).resolve()),
            "reference_outputs": None
            if self.reference_outputs is None
            else str(Path(self.reference_outputs).resolve()),
            "fix_variance": self.fix_variance,
            "rmia_a": self.rmia_a,
            "rmia_gamma": self.rmia_gamma,
        }
