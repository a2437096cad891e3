"""Running (slice, attack) tasks through tensorflow-privacy, in parallel and reproducibly.

Each task is one public ``run_attacks`` call on one slice with one attack, so the numbers
are the library's own. Tasks are independent, which is what makes them parallel:

- threshold attacks (loss, entropy) are deterministic NumPy/scikit-learn work on arrays
  already in memory; they run on a thread pool (no copies; sorting releases the GIL);
- trained attacks (lr, mlp, rf, knn) draw randomness from NumPy's *global* generator
  (the attacker's balancing permutation, and scikit-learn models built with
  ``random_state=None``). Threads would share that generator, so these run in worker
  processes, each task calling ``np.random.seed(seed)`` first: the numbers then depend on
  the seed only, not on the number of workers or the order tasks finish in. They run with
  one BLAS thread each, in a worker or not, so even the last digit does not depend on it.

Worker processes come from a ``forkserver`` that preloads this module (never ``fork``:
the caller may hold TensorFlow's or Streamlit's threads), so only the first pool in a
process pays for importing the library.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np

from analysis.privacy.attacks import AttackKind
from analysis.privacy.library import AttackInputData, SlicingSpec, run_attacks
from analysis.privacy.progress import ProgressFn
from analysis.privacy.reliability import REPORTED_FPRS
from analysis.privacy.roc import compact_roc, tpr_at_fprs

_ENTIRE = SlicingSpec(entire_dataset=True)
MIN_EXAMPLES_FOR_PROCESSES = 10_000


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackTask:
    """One attack on one slice; ``data`` holds only what that attack reads."""

    attack: AttackKind
    data: AttackInputData
    size: int  # members + non-members, for scheduling big tasks first


@dataclass(frozen=True, slots=True, kw_only=True)
class AttackOutcome:
    """The library's numbers for one task. ``epsilon``: top-k lower bounds, best first.

    The ROC curve is read where it was computed (TPR at each of REPORTED_FPRS, and the compact
    curve), so a million-example curve never travels between processes or waits in memory.
    """

    auc: float
    attacker_advantage: float
    ppv: float
    epsilon: tuple[float, ...]
    tpr_at_reported_fprs: tuple[float, ...]
    roc_fpr: np.ndarray
    roc_tpr: np.ndarray
    n_members: int
    n_nonmembers: int


def attack_task(attack: AttackKind, data: AttackInputData) -> AttackTask:
    """The task for ``attack`` on a slice, carrying only the arrays the attack uses.

    The slice's ``loss_*``/``entropy_*`` were precomputed by the library on the full data,
    so the attacks read exactly what a direct ``run_attacks`` call would compute per slice.
    """
    if attack is AttackKind.THRESHOLD:
        view = AttackInputData(loss_train=data.loss_train, loss_test=data.loss_test)
    elif attack is AttackKind.ENTROPY:
        view = AttackInputData(entropy_train=data.entropy_train, entropy_test=data.entropy_test)
    else:
        view = AttackInputData(
            logits_train=data.logits_train,
            logits_test=data.logits_test,
            probs_train=data.probs_train,
            probs_test=data.probs_test,
            labels_train=data.labels_train,
            labels_test=data.labels_test,
            loss_train=data.loss_train,
            loss_test=data.loss_test,
        )
    return AttackTask(attack=attack, data=view, size=data.get_train_size() + data.get_test_size())


def run_attack_task(attack_value: str, data: AttackInputData, seed: int) -> AttackOutcome | None:
    """Run one task; None when the library declines (e.g. too few examples to cross-validate)."""
    attack = AttackKind(attack_value)
    with np.errstate(all="ignore"):  # the epsilon bound divides by zero at extreme thresholds
        if attack.is_trained:
            from threadpoolctl import threadpool_limits

            np.random.seed(seed)
            # One BLAS thread: workers do not oversubscribe the cores, and the floating-point
            # summation order (so every digit) is the same in a worker and in-process.
            with warnings.catch_warnings(), threadpool_limits(limits=1):  # never in a thread: safe here
                warnings.simplefilter("ignore")
                results = run_attacks(data, _ENTIRE, [attack.library_type])
        else:
            results = run_attacks(data, _ENTIRE, [attack.library_type])
        if not results.single_attack_results:
            return None
        single = results.single_attack_results[0]
        fpr, tpr = np.asarray(single.roc_curve.fpr), np.asarray(single.roc_curve.tpr)
        n_nonmembers = int(single.data_size.ntest)
        roc_fpr, roc_tpr = compact_roc(fpr, tpr, n_nonmembers)
        return AttackOutcome(
            auc=float(single.get_auc()),
            attacker_advantage=float(single.get_attacker_advantage()),
            ppv=float(single.get_ppv()),
            epsilon=tuple(float(e) for e in single.get_epsilon_lower_bound()),
            tpr_at_reported_fprs=tuple(float(t) for t in tpr_at_fprs(fpr, tpr, REPORTED_FPRS)),
            roc_fpr=roc_fpr,
            roc_tpr=roc_tpr,
            n_members=int(single.data_size.ntrain),
            n_nonmembers=n_nonmembers,
        )


def run_attack_tasks(
    tasks: Sequence[AttackTask], *, seed: int, workers: int, processes: bool, progress: ProgressFn
) -> list[AttackOutcome | None]:
    """Every task's outcome, in task order.

    ``workers == 1`` runs them one by one in this thread. Otherwise threshold tasks go to a
    thread pool and trained ones to worker processes (``processes``) or, for small audits
    where starting workers costs more than it saves, to this thread meanwhile.
    """
    outcomes: list[AttackOutcome | None] = [None] * len(tasks)
    done = 0

    def finished(index: int, outcome: AttackOutcome | None) -> None:
        nonlocal done
        outcomes[index], done = outcome, done + 1
        task = tasks[index]
        progress(done / len(tasks), f"attacks: {done}/{len(tasks)} done ({task.attack.value}, {task.size} examples)")

    if workers == 1:
        for index, task in enumerate(tasks):
            finished(index, run_attack_task(task.attack.value, task.data, seed))
        return outcomes
    order = sorted(range(len(tasks)), key=lambda i: -tasks[i].size)  # big tasks first: less idle time at the end
    cheap = [i for i in order if not tasks[i].attack.is_trained]
    trained = [i for i in order if tasks[i].attack.is_trained]
    with ExitStack() as stack:
        threads = stack.enter_context(ThreadPoolExecutor(workers, thread_name_prefix="loupe-attack"))
        futures: dict[Future, int] = {_submit(threads, tasks[i], seed): i for i in cheap}
        try:
            if trained and processes:  # submitted after the threads' work: it runs while workers start
                pool = ProcessPoolExecutor(min(workers, len(trained)), mp_context=_worker_context())
                stack.enter_context(pool)
                futures |= {_submit(pool, tasks[i], seed): i for i in trained}
            else:
                for i in trained:  # global RNG and warning filters: threshold threads touch neither
                    finished(i, run_attack_task(tasks[i].attack.value, tasks[i].data, seed))
            for future in as_completed(futures):
                finished(futures[future], future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return outcomes


def use_worker_processes(attacks: Sequence[AttackKind], *, workers: int, n_examples: int) -> bool:
    """Whether trained attacks should run in worker processes: with several workers, and enough
    examples (members + non-members) that the attacks outweigh starting the workers (~2 s, once
    per process). Starts the worker server at once if so, to overlap its import with the caller's
    loss computation."""
    use = workers > 1 and n_examples >= MIN_EXAMPLES_FOR_PROCESSES and any(a.is_trained for a in attacks)
    if use:
        _worker_context()
        multiprocessing.forkserver.ensure_running()
    return use


def _submit(executor: Executor, task: AttackTask, seed: int) -> Future:
    return executor.submit(run_attack_task, task.attack.value, task.data, seed)


def _worker_context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # no effect once the server runs; then it already has us
    return context
