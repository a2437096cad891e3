"""The admission gate's pure core: per-visitor and global caps, the refusal's message and its estimate."""

from __future__ import annotations

import pytest

from analysis.errors import AnalysisInputError
from ui.admission import AdmissionGate, JobRefused, Limits


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


ONE_EACH_TWO_IN_ALL = Limits(per_visitor=1, total=2)


def test_per_visitor_cap_names_the_running_job_and_when_to_come_back(clock):
    gate = AdmissionGate(clock)
    gate.admit("ada", kind="audit", label="a privacy audit of credit-mlp", limits=ONE_EACH_TWO_IN_ALL)
    clock.now += 40
    with pytest.raises(JobRefused) as refused:
        gate.admit("ada", kind="shap", label="a SHAP run", limits=ONE_EACH_TWO_IN_ALL)
    assert str(refused.value) == (
        "Nothing was started: you already run a privacy audit of credit-mlp, started about 40 s ago, and each "
        "visitor may run 1 job at a time. Try again in about 80 s, when it has finished."
    )
    assert [t.label for t in gate.running()] == ["a privacy audit of credit-mlp"]  # the refused one never started
    gate.admit("bob", kind="shap", label="a SHAP run", limits=ONE_EACH_TWO_IN_ALL)  # others still may


def test_global_cap_and_release(clock):
    gate = AdmissionGate(clock)
    first = gate.admit("ada", kind="render", label="render A", limits=ONE_EACH_TWO_IN_ALL)
    gate.admit("bob", kind="render", label="render B", limits=ONE_EACH_TWO_IN_ALL)
    clock.now += 600
    with pytest.raises(JobRefused) as refused:
        gate.admit("cy", kind="audit", label="audit C", limits=ONE_EACH_TWO_IN_ALL)
    assert str(refused.value) == (
        "Nothing was started: the server is busy with 2 jobs (render A, started about 10 min ago; render B, "
        "started about 10 min ago), its limit is 2 at a time. Try again in about 5 s."
    )
    gate.release(first)
    assert gate.admit("cy", kind="audit", label="audit C", limits=ONE_EACH_TWO_IN_ALL).visitor == "cy"


def test_finished_jobs_teach_the_estimate(clock):
    gate = AdmissionGate(clock)
    for _ in range(10):
        ticket = gate.admit("ada", kind="shap", label="a SHAP run", limits=ONE_EACH_TWO_IN_ALL)
        clock.now += 600
        gate.release(ticket)
    gate.admit("ada", kind="shap", label="a SHAP run", limits=ONE_EACH_TWO_IN_ALL)
    with pytest.raises(JobRefused, match=r"Try again in about 10 min"):
        gate.admit("ada", kind="shap", label="another", limits=ONE_EACH_TWO_IN_ALL)


def test_a_refused_job_is_a_user_facing_error():
    assert issubclass(JobRefused, AnalysisInputError)


def test_limits_from_the_environment(monkeypatch):
    monkeypatch.setattr("os.cpu_count", lambda: 6)
    assert Limits.from_environ({}) == Limits(per_visitor=1, total=6)
    assert Limits.from_environ({"LOUPE_MAX_JOBS": "3", "LOUPE_MAX_JOBS_PER_VISITOR": "2"}) == Limits(
        per_visitor=2, total=3
    )
    with pytest.raises(AnalysisInputError, match="LOUPE_MAX_JOBS '0' must be a whole number of jobs, at least 1"):
        Limits.from_environ({"LOUPE_MAX_JOBS": "0"})
