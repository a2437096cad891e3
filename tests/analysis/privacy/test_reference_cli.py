"""``privacy --attacks lira,rmia,... --reference-outputs DIR``: the JSON, the HTML report, bad flags."""

from __future__ import annotations

import json

import pytest

from analysis.cli.main import main
from analysis.privacy.inputs import ModelOutputs, OutputKind
from analysis.privacy.spec import OutputArraysSource
from tests.analysis.privacy.privacy_support import make_logits, save_outputs
from tests.analysis.privacy.reference_support import write_reference_outputs


@pytest.fixture
def files(tmp_path):
    m_logits, m_labels = make_logits(150, classes=3, margin=3.0, seed=0)
    n_logits, n_labels = make_logits(150, classes=3, margin=1.5, seed=1)
    source = OutputArraysSource(
        members=ModelOutputs(name="m", outputs=m_logits, kind=OutputKind.LOGITS, labels=m_labels),
        nonmembers=ModelOutputs(name="n", outputs=n_logits, kind=OutputKind.LOGITS, labels=n_labels),
    )
    return (
        save_outputs(tmp_path / "m.npz", m_logits, m_labels),
        save_outputs(tmp_path / "n.npz", n_logits, n_labels),
        write_reference_outputs(source, tmp_path / "refs", k=6),
    )


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["privacy", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_reference_attacks_from_the_cli(loupe_home, tmp_path, files, capsys):
    members, nonmembers, refs = files
    code, out, _ = run(
        capsys,
        "--members-outputs",
        str(members),
        "--nonmembers-outputs",
        str(nonmembers),
        "--slices",
        "none",
        "--attacks",
        "threshold,lira,rmia",
        "--reference-outputs",
        str(refs),
        "--lira-variance",
        "per-example",
        "--rmia-a",
        "0.3",
        "--json",
        "-",
        "--html",
        str(tmp_path / "r.html"),
    )
    assert code == 0
    data = json.loads(out)
    assert [r["attack"] for r in data["results"]] == ["threshold", "lira", "rmia"]
    reference = data["reference"]
    assert (reference["n_used"], reference["fix_variance"], reference["rmia_a"]) == (6, False, 0.3)
    lira = data["results"][1]
    assert lira["tpr_ci"]["0.01"][0] <= lira["tpr_at_fpr"]["0.01"] <= lira["tpr_ci"]["0.01"][1]
    assert data["parameters"]["reference"]["reference_outputs"] == str(refs.resolve())
    assert "Reference-model attacks (LiRA, offset, RMIA)" in (tmp_path / "r.html").read_text()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--lira-variance", "some"], "--lira-variance 'some'; choices are 'auto', 'fixed' or 'per-example'"),
        (["--engine", "spark"], "--engine 'spark'; engines are 'local' or 'ray'"),
        (
            ["--reference-models", "5"],
            "reference models 5 must be an even number from 2 to 1024 (they train in complementary pairs)",
        ),
        (["--optimizer", "adagrad"], "recipe optimizer 'adagrad'; optimizers are 'adam', 'sgd' or 'rmsprop'"),
    ],
)
def test_bad_reference_flags(loupe_home, files, capsys, extra, message):
    members, nonmembers, refs = files
    code, _, err = run(
        capsys,
        "--members-outputs",
        str(members),
        "--nonmembers-outputs",
        str(nonmembers),
        "--attacks",
        "lira",
        "--reference-outputs",
        str(refs),
        *extra,
    )
    assert (code, err) == (2, f"error: {message}\n")
