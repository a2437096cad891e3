"""Shared fixtures for the model-card tests: a tiny registered Keras model and hand-made records.

The records follow the JSON contracts of the privacy (issue 4) and fairness (issue 5)
results; their numbers are chosen by hand so a card's numbers can be checked exactly.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.datasets import DatasetRole
from analysis.model_card.fields import parse_fields
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.records import RecordStore

REPO_ROOT = Path(__file__).resolve().parents[3]
REFERENCE_SCHEMA = REPO_ROOT.parent / "shared" / "reference" / "model_card.schema.v0.0.2.json"
MODEL_ID = "tiny-mlp"
HOSTILE = "<script>alert(1)</script> **bold** _it_ [link](javascript:alert(2)) `code` | pipe # hash & amp"
YAML_HOSTILE = "key: value # not a comment - 'single' \"double\"\n---\nsecond line: {x}\n- item"

# Shaped like FairnessResult.to_dict() (analysis/fairness/result.py) and MembershipAuditResult.to_dict()
# (analysis/privacy/result.py), trimmed to what a card reads, with numbers chosen by hand.
FAIRNESS_RESULT: dict[str, Any] = {
    "overall": [
        {
            "group": {},
            "threshold": 0.5,
            "count": 200,
            "metrics": {
                "count": {"value": 200, "ci": None},
                "accuracy": {"value": 0.805, "ci": [0.75, 0.855]},
                "selection_rate": {"value": 0.46, "ci": [0.39, 0.53]},
                "tpr": {"value": 0.7812345678901234, "ci": [0.7, 0.86]},
            },
        }
    ],
    "slices": [
        {
            "group": {"sex": "F"},
            "threshold": 0.5,
            "count": 90,
            "metrics": {
                "count": {"value": 90, "ci": None},
                "accuracy": {"value": 0.7123456789012345, "ci": [0.6234, 0.8011]},
                "selection_rate": {"value": 0.35, "ci": [0.25, 0.45]},
                "tpr": {"value": 0.66, "ci": [0.52, 0.79]},
                "fpr": {"value": None, "ci": None, "reason": "no negatives in this slice"},
            },
            "vs_baseline": {
                "accuracy": {"difference": -0.09, "ratio": 0.88, "ci_difference": [-0.2, 0.01], "ci_ratio": [0.8, 1.0]}
            },
            "is_baseline": False,
        },
        {
            "group": {"sex": "M"},
            "threshold": 0.5,
            "count": 110,
            "metrics": {
                "count": {"value": 110, "ci": None},
                "accuracy": {"value": 0.88, "ci": [0.81, 0.93]},
                "selection_rate": {"value": 0.55, "ci": [0.46, 0.64]},
                "tpr": {"value": 0.9, "ci": [0.82, 0.96]},
            },
            "vs_baseline": {},
            "is_baseline": False,
        },
    ],
    "disparities": {
        "demographic_parity_difference": [{"over": ["sex"], "threshold": 0.5, "value": 0.2, "ci": [0.07, 0.33]}],
        "equalized_odds_difference": [],
    },
    "too_small": [{"group": {"sex": "X"}, "count": 3}],
    "record_id": None,
    "parameters": {"thresholds": [0.5]},
    "baseline": "overall",
    "n_rows": 203,
    "notes": [],
}

PRIVACY_RESULT: dict[str, Any] = {
    "model": None,
    "revision": None,
    "seed": 0,
    "attacks": ["threshold"],
    "slices": ["entire_dataset", "column:sex"],
    "n_members": 100,
    "n_nonmembers": 100,
    "train_accuracy": 0.99,
    "test_accuracy": 0.8,
    "class_names": [],
    "results": [
        {
            "slice": {"kind": "entire_dataset"},
            "attack": "threshold",
            "n_members": 100,
            "n_nonmembers": 100,
            "auc": 0.6312,
            "attacker_advantage": 0.21,
            "ppv": 0.6,
            "tpr_at_fpr": {"0.001": None, "0.01": 0.07},
            "epsilon_lower_bound": 0.5,
            "notes": ["TPR at 0.1% FPR needs at least 1000 non-members; this slice has 100"],
            "small_slice": False,
            "roc": {"fpr": [0.0, 0.2, 1.0], "tpr": [0.0, 0.4, 1.0]},
        },
        {
            "slice": {"kind": "column", "column": "sex", "value": "F"},
            "attack": "threshold",
            "n_members": 50,
            "n_nonmembers": 50,
            "auc": 0.7001,
            "attacker_advantage": 0.3,
            "ppv": 0.66,
            "tpr_at_fpr": {"0.001": None, "0.01": 0.12},
            "epsilon_lower_bound": None,
            "notes": [],
            "small_slice": False,
            "roc": {"fpr": [0.0, 0.1, 0.5, 1.0], "tpr": [0.0, 0.3, 0.8, 1.0]},
        },
    ],
    "summary": {
        "max_auc": 0.7001,
        "max_tpr_at_1pct_fpr": 0.12,
        "max_tpr_at_0.1pct_fpr": None,
        "worst_slice": {
            "slice": {"kind": "column", "column": "sex", "value": "F"},
            "label": "sex = F",
            "attack": "threshold",
            "auc": 0.7001,
            "tpr_at_fpr": {"0.001": None, "0.01": 0.12},
        },
        "verdict": {"level": "high", "text": "High membership-inference risk: the best attack reaches AUC 0.700."},
    },
}

FULL_FIELDS: dict[str, Any] = {
    "model_details": {
        "name": "Tiny credit MLP",
        "overview": "Predicts the probability that a loan is repaid.",
        "documentation": "A two-layer perceptron trained on synthetic data.\nSecond paragraph.",
        "owners": [{"name": "Risk team", "contact": "risk@example.org"}],
        "version": {"name": "1.2", "date": "2025-01-31", "diff": "Retrained on 2024 data"},
        "licenses": [{"identifier": "apache-2.0"}, {"custom_text": "Internal use only."}],
        "references": [{"reference": "https://arxiv.org/abs/1810.03993"}],
        "citations": [{"style": "bibtex", "citation": "@misc{tiny, title={Tiny}}"}],
    },
    "considerations": {
        "users": [{"description": "Loan officers"}],
        "use_cases": [{"description": "Ranking applications for manual review"}],
        "out_of_scope_uses": [{"description": "Fully automated rejection"}],
        "limitations": [{"description": "Trained on synthetic data only"}],
        "tradeoffs": [{"description": "Higher recall costs precision"}],
        "ethical_considerations": [{"name": "Disparate impact by sex", "mitigation_strategy": "Audit every release"}],
    },
}


def full_fields(**overrides: Any):
    """FULL_FIELDS parsed, with ``model_details``/``considerations`` keys replaced by ``overrides``."""
    data = json.loads(json.dumps(FULL_FIELDS))
    for dotted, value in overrides.items():
        section, key = dotted.split("__")
        data[section][key] = value
    return parse_fields(data)


def _make_model(path: Path, seed: int) -> None:
    import keras

    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(3, activation="relu", name="hidden"),
            keras.layers.Dense(1, activation="sigmoid", name="out"),
        ]
    )
    model.save(path)


@pytest.fixture(scope="session")
def card_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A Loupe home with ``tiny-mlp`` registered (revision A), plus revision B's file, built once."""
    root = tmp_path_factory.mktemp("card_template")
    rng = np.random.default_rng(0)
    data = root / "credit.npz"
    np.savez(
        data,
        x=rng.random((40, 4)).astype("float32"),
        y=rng.integers(0, 2, 40),
        meta_sex=np.array(["F", "M"] * 20),
        feature_names=np.array(["a", "b", "c", "d"]),
    )
    model_a, model_b = root / "tiny_a.keras", root / "tiny_b.keras"
    _make_model(model_a, seed=1)
    _make_model(model_b, seed=2)
    home = root / "home"
    registry = ModelRegistry(home)
    registry.register(RegisterModelSpec(path=model_a, model_id=MODEL_ID, datasets={DatasetRole.DATA: data}))
    registry.register(RegisterModelSpec(path=model_a, model_id="other-mlp"))
    return {"home": home, "model_b": model_b}


@pytest.fixture
def card_home(card_template: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh copy of the template home, set as LOUPE_HOME."""
    home = tmp_path / "home"
    shutil.copytree(card_template["home"], home)
    monkeypatch.setenv("LOUPE_HOME", str(home))
    return home


def save_records(home: Path, model_id: str = MODEL_ID) -> dict[str, Any]:
    """Store one fairness and one privacy record for ``model_id`` at its current revision."""
    revision = ModelRegistry(home).get(model_id).current.revision
    store = RecordStore(home)
    common = {"model_id": model_id, "revision": revision, "versions": {"python": "3.11"}}
    fairness = store.save(
        kind="fairness",
        inputs={"data": "a" * 64},
        parameters={"thresholds": [0.5], "seed": 0},
        result=FAIRNESS_RESULT,
        **common,
    )
    privacy = store.save(
        kind="privacy",
        inputs={"members": "b" * 64, "nonmembers": "c" * 64},
        parameters={"seed": 0},
        result=PRIVACY_RESULT,
        **common,
    )
    return {"fairness": fairness, "privacy": privacy}
