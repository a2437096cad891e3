"""Bad audit inputs: each gets a message naming the file, the array and the value; nothing is stored."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analysis.cli.main import main
from analysis.errors import AnalysisInputError
from analysis.privacy import (
    MembershipAuditSpec,
    ModelOutputs,
    OutputArraysSource,
    OutputFilesSource,
    SlicingOptions,
    run_membership_audit,
)
from analysis.records import RecordStore
from tests.analysis.privacy.privacy_support import make_logits, save_outputs


@pytest.fixture
def good(tmp_path: Path) -> tuple[Path, Path]:
    members = save_outputs(tmp_path / "members.npz", *make_logits(50, classes=4, margin=2.0, seed=0))
    nonmembers = save_outputs(tmp_path / "nonmembers.npz", *make_logits(50, classes=4, margin=1.0, seed=1))
    return members, nonmembers


def audit(members: Path, nonmembers: Path, **spec) -> None:
    run_membership_audit(
        MembershipAuditSpec(
            source=OutputFilesSource(members=members, nonmembers=nonmembers), attacks=("threshold",), workers=1, **spec
        )
    )


def expect(message: str, members: Path, nonmembers: Path, **spec) -> None:
    with pytest.raises(AnalysisInputError) as caught:
        audit(members, nonmembers, **spec)
    assert str(caught.value) == message


def named(side: str, path: Path) -> str:
    return f"{side} file {str(path)!r}"


def test_good_files_pass(good):
    audit(*good)


def test_different_widths(tmp_path, good):
    narrow = save_outputs(tmp_path / "narrow.npz", *make_logits(50, classes=3, margin=1.0, seed=1))
    expect(
        "members and non-members must come from the same classifier: members have 4 output columns, non-members 3",
        good[0],
        narrow,
    )


@pytest.mark.parametrize(("bad_label", "row"), [(4, 2), (-1, 7)])
def test_labels_out_of_range(tmp_path, good, bad_label, row):
    logits, labels = make_logits(50, classes=4, margin=2.0, seed=0)
    labels[row] = bad_label
    path = save_outputs(tmp_path / "bad.npz", logits, labels)
    expect(
        f"'labels' in {named('members', path)} must be class indices 0-3 (the outputs have 4 columns); "
        f"found {bad_label} at row {row}",
        path,
        good[1],
    )


def test_labels_must_be_integers(tmp_path, good):
    logits, labels = make_logits(50, classes=4, margin=2.0, seed=0)
    path = save_outputs(tmp_path / "bad.npz", logits, labels.astype(np.float32))
    expect(f"'labels' in {named('members', path)} must be integers (class indices), got dtype float32", path, good[1])


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_logits(tmp_path, good, bad_value):
    logits, labels = make_logits(50, classes=4, margin=1.0, seed=1)
    logits[5, 2] = logits[9, 0] = bad_value
    path = save_outputs(tmp_path / "bad.npz", logits, labels)
    expect(f"'logits' in {named('non-members', path)} contain 2 NaN or infinite values (first at row 5)", good[0], path)


def test_probabilities_that_do_not_sum_to_one(tmp_path, good):
    probs = np.full((50, 4), 0.25)
    probs[0] = [0.5, 0.3, 0.2, 0.2]
    path = save_outputs(tmp_path / "probs.npz", probs, np.zeros(50, dtype=np.int64), key="probs")
    members = save_outputs(
        tmp_path / "members-probs.npz", np.full((50, 4), 0.25), np.zeros(50, dtype=np.int64), key="probs"
    )
    expect(
        f"'probs' in {named('non-members', path)} must sum to 1 in every row (within 0.001); row 0 sums to 1.2. "
        "If these are logits, store them as 'logits'",
        members,
        path,
    )


def test_probabilities_outside_zero_one(tmp_path, good):
    probs = np.full((50, 2), 0.5)
    probs[3] = [1.5, -0.5]
    path = save_outputs(tmp_path / "probs.npz", probs, np.zeros(50, dtype=np.int64), key="probs")
    expect(f"'probs' in {named('members', path)} must lie in [0, 1]; found 1.5 at row 3", path, good[1])


def test_logits_for_one_side_and_probabilities_for_the_other(tmp_path, good):
    path = save_outputs(tmp_path / "probs.npz", np.full((50, 4), 0.25), np.zeros(50, dtype=np.int64), key="probs")
    expect("members give 'logits' but non-members give 'probs'; give the same kind of output for both", good[0], path)


def test_empty_file(tmp_path, good):
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    expect(f"data file {str(empty)!r} is empty (0 bytes)", empty, good[1])


def test_file_with_no_rows(tmp_path, good):
    path = save_outputs(tmp_path / "none.npz", np.zeros((0, 4), dtype=np.float32), np.zeros(0, dtype=np.int64))
    expect(f"no examples in {named('members', path)} (0 rows)", path, good[1])


def test_file_without_outputs_or_labels(tmp_path, good):
    inputs = tmp_path / "inputs.npz"
    np.savez(inputs, x=np.zeros((3, 2)), y=np.zeros(3, dtype=np.int64))
    expect(
        f"{named('members', inputs)} has neither 'logits' nor 'probs'; it has 'x' or 'y' "
        "(inputs x, y? then audit a registered model with --model)",
        inputs,
        good[1],
    )
    both = tmp_path / "both.npz"
    np.savez(both, logits=np.zeros((3, 2)), probs=np.full((3, 2), 0.5), labels=np.zeros(3, dtype=np.int64))
    expect(
        f"{named('members', both)} has both 'logits' and 'probs' (keep one); it has 'labels', 'logits' or 'probs'",
        both,
        good[1],
    )
    unlabelled = tmp_path / "unlabelled.npz"
    np.savez(unlabelled, logits=np.zeros((3, 2)))
    expect(f"{named('non-members', unlabelled)} has no array 'labels'; it has 'logits'", good[0], unlabelled)


def test_slice_column_missing(good):
    expect(
        "slice column 'sex' is missing from the members; its metadata columns are (none)",
        *good,
        slicing=SlicingOptions(columns=("sex",)),
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            {"attacks": ("threshold", "svm")},
            "unknown attack 'svm'; attacks are 'threshold', 'entropy', 'lr', 'mlp', 'rf', 'knn', 'lira', "
            "'lira-offline', 'offset', 'rmia' or 'rmia-offline'",
        ),
        (
            {"attacks": ()},
            "choose at least one attack: 'threshold', 'entropy', 'lr', 'mlp', 'rf', 'knn', 'lira', 'lira-offline', "
            "'offset', 'rmia' or 'rmia-offline'",
        ),
        ({"seed": -1}, "seed -1 must be an integer from 0 to 2**32 - 1"),
        ({"workers": 0}, "workers 0 must be between 1 and 64"),
    ],
)
def test_bad_spec(good, spec, message):
    source = OutputFilesSource(members=good[0], nonmembers=good[1])
    with pytest.raises(AnalysisInputError) as caught:
        MembershipAuditSpec(source=source, **spec)
    assert str(caught.value) == message


def test_unknown_slice_name():
    with pytest.raises(AnalysisInputError) as caught:
        SlicingOptions.parse("class,gender")
    assert str(caught.value) == (
        "unknown slice 'gender'; slices are 'class', 'percentile', 'correctness' or 'column:NAME'"
    )


@pytest.mark.parametrize("container", [list, np.asarray])
def test_in_memory_outputs_accept_lists_and_arrays(container):
    logits, labels = make_logits(40, classes=3, margin=1.0, seed=0)
    side = ModelOutputs(
        name="members", outputs=container(logits.tolist()), kind="logits", labels=container(labels.tolist())
    )
    assert side.outputs.shape == (40, 3) and side.n_classes == 3
    result = run_membership_audit(
        MembershipAuditSpec(source=OutputArraysSource(members=side, nonmembers=side), attacks=("threshold",), workers=1)
    )
    assert result.rows[0].auc == pytest.approx(0.5)


def test_binary_sigmoid_outputs_become_two_columns():
    side = ModelOutputs(name="members", outputs=np.array([[0.9], [0.2]]), kind="probs", labels=np.array([1, 0]))
    assert side.outputs.tolist() == [[pytest.approx(0.1), 0.9], [0.8, 0.2]]


def test_cli_bad_input_exits_2_with_one_line_and_stores_nothing(loupe_home, tmp_path, good, capsys):
    narrow = save_outputs(tmp_path / "narrow.npz", *make_logits(50, classes=3, margin=1.0, seed=1))
    code = main(["privacy", "--members-outputs", str(good[0]), "--nonmembers-outputs", str(narrow)])
    assert code == 2
    assert capsys.readouterr().err == (
        "error: members and non-members must come from the same classifier: members have 4 output columns, "
        "non-members 3\n"
    )
    assert RecordStore(loupe_home).list() == []


def test_a_failure_during_the_attacks_stores_nothing(loupe_home, good, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("worker died")

    monkeypatch.setattr("analysis.privacy.engine.run_attack_tasks", broken)
    with pytest.raises(RuntimeError, match="worker died"):  # a bug surfaces, it is not a user error
        main(["privacy", "--members-outputs", str(good[0]), "--nonmembers-outputs", str(good[1])])
    assert RecordStore(loupe_home).list() == []
