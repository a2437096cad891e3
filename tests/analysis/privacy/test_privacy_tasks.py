"""Attack tasks: a worker process that dies mid-audit costs a re-run of its task, not the audit."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool

from analysis.privacy import AttackKind, MembershipAuditSpec, SlicingOptions, run_membership_audit
from tests.analysis.privacy.privacy_support import leaky_source


def spec(workers: int) -> MembershipAuditSpec:
    return MembershipAuditSpec(
        source=leaky_source(100),
        attacks=(AttackKind.THRESHOLD, AttackKind.LR),
        slicing=SlicingOptions.parse("class"),
        seed=5,
        workers=workers,
    )


def test_a_task_whose_worker_process_died_runs_again_with_the_same_numbers(monkeypatch):
    alone = run_membership_audit(spec(workers=1))
    lost = []

    def dead_worker(workers, task, seed):  # what a killed (or out-of-memory) pool worker leaves
        lost.append(task.attack)
        future = Future()
        future.set_exception(BrokenProcessPool("A process in the process pool was terminated abruptly"))
        return future

    monkeypatch.setattr("analysis.privacy.engine.use_worker_processes", lambda *args, **kwargs: True)
    monkeypatch.setattr("analysis.privacy.tasks._submit_to_pool", dead_worker)
    recovered = run_membership_audit(spec(workers=2))
    assert lost and set(lost) == {AttackKind.LR}  # every trained task went to the (dead) pool
    assert recovered.to_dict() == alone.to_dict()
