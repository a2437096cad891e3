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
the caller may hold TensorFlow's or Streamlit's threads). They cost ~2 s to start (the
library's import), so they are started only for audits big enough to earn it back, and then
kept for the life of the process (the /privacy page starts them when it opens).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.forkserver
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from analysis.privacy.attacks import AttackKind
from analysis.privacy.library import AttackInputData, SlicingSpec, run_attacks
from analysis.privacy.reliability import REPORTED_FPRS
from analysis.privacy.roc import compact_roc, tpr_at_fprs
from analysis.progress import Progress

_ENTIRE = SlicingSpec(entire_dataset=True)
MIN_EXAMPLES_COLD = 50_000  # members + non-members for trained attacks to start worker processes
MIN_EXAMPLES_WARM = 10_000  # ... to use a pool that is already running
_pool: tuple[int, ProcessPoolExecutor] | None = None  # (workers, pool)
_pool_lock = threading.Lock()


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
    tasks: Sequence[AttackTask], *, seed: int, workers: int, processes: bool, progress: Progress
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
    with ThreadPoolExecutor(workers, thread_name_prefix="loupe-attack") as threads:
        futures: dict[Future, int] = {_submit(threads, tasks[i], seed): i for i in cheap}
        try:
            if trained and processes:  # submitted after the threads' work: it runs while workers start
                futures |= {_submit_to_pool(workers, tasks[i], seed): i for i in trained}
            else:
                for i in trained:  # global RNG and warning filters: threshold threads touch neither
                    finished(i, run_attack_task(tasks[i].attack.value, tasks[i].data, seed))
            for future in as_completed(futures):
                index = futures[future]
                try:
                    outcome = future.result()
                except BrokenProcessPool:
                    # A worker process died (killed, out of memory): the pool is dropped and the task
                    # runs again here; each task is seeded on its own, so its numbers are the same.
                    _drop_pool()
                    outcome = run_attack_task(tasks[index].attack.value, tasks[index].data, seed)
                finished(index, outcome)
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return outcomes


def use_worker_processes(attacks: Sequence[AttackKind], *, workers: int, n_examples: int) -> bool:
    """Whether trained attacks should run in worker processes, given members + non-members.

    Starting the workers costs ~2 s once per process (the library's import), which a small
    audit does not earn back: from a cold start, only audits of at least
    :data:`MIN_EXAMPLES_COLD` examples use them; once the pool runs (a server keeps it, see
    :func:`start_worker_pool`), audits of :data:`MIN_EXAMPLES_WARM`. When they will be used,
    the workers start at once, overlapping their import with the caller's loss computation.
    """
    if workers == 1 or not any(attack.is_trained for attack in attacks):
        return False
    warm = _pool is not None and _pool[0] == workers
    if n_examples < (MIN_EXAMPLES_WARM if warm else MIN_EXAMPLES_COLD):
        return False
    start_worker_pool(workers)
    return True


def start_worker_pool(workers: int) -> None:
    """Start (or keep) this process's pool of ``workers`` attack workers, kept between audits."""
    _pool_for(workers)


def _pool_for(workers: int) -> ProcessPoolExecutor:
    global _pool  # noqa: PLW0603  (one pool per process, like the forkserver it forks from)
    with _pool_lock:
        if _pool is None or _pool[0] != workers:
            if _pool is not None:
                _pool[1].shutdown(wait=False, cancel_futures=True)
            _pool = (workers, ProcessPoolExecutor(workers, mp_context=_worker_context()))
            # Returns at once; the server imports the library meanwhile, and workers fork from it
            # on the first submits (which wait for it only if it is not ready by then).
            multiprocessing.forkserver.ensure_running()
        return _pool[1]


def _submit(executor: Executor, task: AttackTask, seed: int) -> Future:
    return executor.submit(run_attack_task, task.attack.value, task.data, seed)


def _submit_to_pool(workers: int, task: AttackTask, seed: int) -> Future:
    """Submit to the pool; a pool broken by a killed worker is replaced once."""
    global _pool  # noqa: PLW0603
    try:
        return _submit(_pool_for(workers), task, seed)
    except BrokenProcessPool:
        with _pool_lock:
            _pool = None
        return _submit(_pool_for(workers), task, seed)


def _drop_pool() -> None:
    """Forget a broken pool (the next audit starts a new one)."""
    global _pool  # noqa: PLW0603
    with _pool_lock:
        if _pool is not None:
            _pool[1].shutdown(wait=False, cancel_futures=True)
        _pool = None


def _worker_context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])  # no effect once the server runs; then it already has us
    return context
