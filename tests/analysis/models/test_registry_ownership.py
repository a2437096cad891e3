"""Ids are owned: a registration may require its id to be new, or a given revision to be the current one."""

from __future__ import annotations

import pytest

from analysis.errors import AnalysisInputError
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from tests.conftest import build_tiny_cnn


@pytest.fixture
def two_models(tmp_path):
    paths = []
    for seed in (0, 1):
        path = tmp_path / f"tiny-{seed}.keras"
        build_tiny_cnn(seed).save(path)
        paths.append(path)
    return paths


def test_new_id_only_and_confirmed_replacement(loupe_home, two_models):
    registry = ModelRegistry()
    first = registry.register(RegisterModelSpec(path=two_models[0], model_id="mine", replaces=None))
    with pytest.raises(AnalysisInputError) as raised:
        registry.register(RegisterModelSpec(path=two_models[1], model_id="mine", replaces=None))
    assert str(raised.value) == (
        f"model id 'mine' is taken (current revision {first.current.short}, registered "
        f"{first.current.registered_at}); confirm that the new file replaces it, or choose another id"
    )
    assert registry.get("mine").current.revision == first.current.revision
    with pytest.raises(AnalysisInputError, match="changed while you were confirming"):
        registry.register(RegisterModelSpec(path=two_models[1], model_id="mine", replaces="0" * 64))
    second = registry.register(RegisterModelSpec(path=two_models[1], model_id="mine", replaces=first.current.revision))
    assert second.current.revision != first.current.revision
    assert [r.revision for r in second.revisions] == [second.current.revision, first.current.revision]


def test_the_cli_default_replaces_anything(loupe_home, two_models):
    registry = ModelRegistry()
    registry.register(RegisterModelSpec(path=two_models[0], model_id="mine"))
    assert len(registry.register(RegisterModelSpec(path=two_models[1], model_id="mine")).revisions) == 2


@pytest.mark.parametrize("model_id", ["shapes-cnn", "shapes-cnn-memorizer", "credit-mlp"])
def test_cli_refuses_demo_ids_without_the_flag(loupe_home, tiny_cnn_path, capsys, model_id):
    from analysis.cli.main import main

    assert main(["models", "add", str(tiny_cnn_path), "--id", model_id]) != 0
    assert f"model id {model_id!r} belongs to a demo model" in capsys.readouterr().err
    assert ModelRegistry().ids() == []
    assert main(["models", "add", str(tiny_cnn_path), "--id", model_id, "--replace-demo"]) == 0
    assert ModelRegistry().ids() == [model_id]


def test_demo_ids_are_the_ones_the_demo_builds():
    from analysis.cli.models import DEMO_IDS

    assert set(DEMO_IDS) == {"shapes-cnn", "shapes-cnn-memorizer", "credit-mlp"}
