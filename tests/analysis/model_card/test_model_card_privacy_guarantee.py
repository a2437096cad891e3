"""The card's privacy section: DP-SGD epsilon from the registry beside the audit's empirical lower bound."""

# ruff: noqa: F811  (the shared fixtures are imported by name, then requested as arguments)

from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest

from analysis.model_card import ModelCardFields, ModelCardSpec, build_model_card
from analysis.model_card.fields import ModelDetailsFields
from analysis.model_card.privacy_guarantee import bound_from_rates, empirical_lower_bound
from analysis.model_card.render_markdown import render_markdown
from analysis.model_card.schema_check import schema_problems
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.training.accounting import compute_dp_guarantee
from tests.analysis.model_card.model_card_support import (  # noqa: F401
    MODEL_ID,
    PRIVACY_RESULT,
    card_home,
    card_template,
    save_records,
)

MINIMAL = ModelCardFields(model_details=ModelDetailsFields(overview="Just an overview."))


def test_card_shows_theoretical_epsilon_beside_the_audits_lower_bound(card_home: Path) -> None:
    registry = ModelRegistry(card_home)
    current = registry.get(MODEL_ID).current
    guarantee = compute_dp_guarantee(n_examples=1000, batch_size=50, epochs=3, noise_multiplier=1.1, l2_norm_clip=1)
    registry.register(
        RegisterModelSpec(path=Path(current.path), model_id=MODEL_ID, training_privacy=guarantee.to_dict())
    )
    records = save_records(card_home)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, home=card_home, graphics=False, fields=MINIMAL))
    section = card.privacy_guarantee
    assert section is not None and section.epsilon == pytest.approx(guarantee.epsilon)
    assert section.lower_bound == 0.5  # the stored tensorflow-privacy bound of the only row that has one
    assert section.lower_bound_record == records["privacy"].record_id and not section.contradicts
    assert schema_problems(card.document) == []
    types = [m["type"] for m in card.document["quantitative_analysis"]["performance_metrics"]]
    assert any(t.startswith("dp_sgd_epsilon (RDP accountant, delta=1e-03)") for t in types)
    assert any(t.startswith("empirical_epsilon_lower_bound") for t in types)
    text = render_markdown(card)
    assert "theoretical epsilon (DP-SGD):** " + f"{guarantee.epsilon:.3g}" in text
    assert "Empirical lower bound: what the audit's attacks actually demonstrate" in text


def test_no_guarantee_and_no_audit_means_no_section(card_home: Path) -> None:
    card = build_model_card(
        ModelCardSpec(model_id=MODEL_ID, home=card_home, graphics=False, record_ids=(), fields=MINIMAL)
    )
    assert card.privacy_guarantee is None


def test_bound_from_rates_by_hand() -> None:
    # TPR 0.5 at FPR 0.01, delta 0: eps >= log(0.5 / 0.01) = log 50; the other inequality gives log(0.99 / 0.5)
    assert bound_from_rates(0.5, 0.01, 0.0) == pytest.approx(math.log(50))
    assert bound_from_rates(0.01, 0.01, 0.0) == pytest.approx(0.0)  # chance forces nothing
    rows = copy.deepcopy(PRIVACY_RESULT)
    for row in rows["results"]:
        row["epsilon_lower_bound"] = None
    bound, method = empirical_lower_bound(rows, delta=1e-5)
    assert bound == pytest.approx(math.log((0.12 - 1e-5) / 0.01)) and "point estimate" in method


def test_html_card_shows_the_section(card_home: Path) -> None:
    from analysis.model_card.render_html import render_html

    save_records(card_home)
    card = build_model_card(ModelCardSpec(model_id=MODEL_ID, home=card_home, graphics=False, fields=MINIMAL))
    html = render_html(card)
    assert 'id="privacy-guarantee"' in html and "Empirical epsilon lower bound:</strong> 0.5" in html
    assert "was not registered as trained with DP-SGD" in html
