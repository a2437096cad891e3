"""What the reference attacks add to an audit result: :class:`ReferenceSummary` (frozen, in the JSON).

The attacks' rows themselves are ordinary :class:`analysis.privacy.result.AttackRow` entries on
the entire data set, beside the classic attacks' rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RECIPE_SOURCE_TEXT = {
    "file": "from the --recipe file",
    "given": "given with the audit",
    "registration": "the recipe registered with the model",
    "default": "Loupe's default recipe: none registered with the model",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceSummary:
    """How the references were obtained and used.

    ``left_out``: ``(reference, reason)`` for every reference not used (a diverged training);
    ``recipe``: what trained references trained with; ``recipe_source``: why (``"flags"``, ``"file"``,
    ``"given"``, ``"registration"`` or ``"default"``, see
    :class:`analysis.privacy.reference_spec.RecipeChoice`), ``recipe_base`` and ``recipe_flags`` the
    base the flags ``recipe_flags`` were applied over (None on records from before they were recorded);
    ``exposed_by``: the reference attack whose scores rank the result's ``reference_exposed`` members;
    ``scores``: per-attack membership scores ``[n_members + n_nonmembers]`` (members first), on
    the object only (the JSON would grow with the data).
    """

    n_references: int
    n_used: int
    source: str  # "trained" or "outputs"
    left_out: tuple[tuple[str, str], ...] = ()
    recipe: Mapping[str, Any] | None = None
    recipe_source: str | None = None
    recipe_base: str | None = None
    recipe_flags: tuple[str, ...] = ()
    engine: str | None = None
    trained: int = 0
    from_cache: int = 0
    n_population: int = 0
    fix_variance: bool = True
    rmia_a: float = 0.5
    rmia_gamma: float = 1.0
    exposed_by: str | None = None
    scores: Mapping[str, np.ndarray] = field(default_factory=dict, compare=False)

    def recipe_text(self) -> str:
        """The recipe and why, in words: ``"epochs 5, batch_size 64, ... (the recipe registered with the
        model; epochs set by hand)"``; ``""`` when no reference was trained."""
        if self.recipe is None:
            return ""
        fields = ", ".join(f"{name} {value}" for name, value in self.recipe.items())
        why = RECIPE_SOURCE_TEXT.get(self.recipe_base or "", "")
        if self.recipe_flags:
            why = (f"{why}; " if why else "") + ", ".join(self.recipe_flags) + " set by hand"
        return f"{fields} ({why})" if why else fields

    def to_dict(self) -> dict[str, Any]:
        return {
            "n_references": self.n_references,
            "n_used": self.n_used,
            "source": self.source,
            "left_out": [{"reference": name, "reason": reason} for name, reason in self.left_out],
            "recipe": None if self.recipe is None else dict(self.recipe),
            "recipe_source": self.recipe_source,
            "recipe_base": self.recipe_base,
            "recipe_flags": list(self.recipe_flags),
            "engine": self.engine,
            "trained": self.trained,
            "from_cache": self.from_cache,
            "n_population": self.n_population,
            "fix_variance": self.fix_variance,
            "rmia_a": self.rmia_a,
            "rmia_gamma": self.rmia_gamma,
            "exposed_by": self.exposed_by,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceSummary:
        return cls(
            n_references=data["n_references"],
            n_used=data["n_used"],
            source=data["source"],
            left_out=tuple((item["reference"], item["reason"]) for item in data["left_out"]),
            recipe=data["recipe"],
            recipe_source=data.get("recipe_source"),
            recipe_base=data.get("recipe_base"),
            recipe_flags=tuple(data.get("recipe_flags", ())),
            engine=data["engine"],
            trained=data["trained"],
            from_cache=data["from_cache"],
            n_population=data["n_population"],
            fix_variance=data["fix_variance"],
            rmia_a=data["rmia_a"],
            rmia_gamma=data["rmia_gamma"],
            exposed_by=data["exposed_by"],
        )
