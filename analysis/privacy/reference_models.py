"""Reference models for LiRA/offset/RMIA: the split, training clones of the target, caching, workers.

- :func:`reference_masks`: ``[K, n]`` bool, which pool examples reference k trains on. References
  come in complementary pairs drawn from ``(seed, pair)``: reference ``2j`` trains on a random
  half, ``2j + 1`` on the other half. So every example is IN for exactly half of the references,
  the split is reproducible from the seed, and reference k's half does not depend on K (a
  larger K trains only the new ones).
- :func:`train_references`: each missing reference is trained (``keras.models.clone_model`` of
  the target, fresh weights, the recipe) in a worker process, or as a Ray task, and stored in
  the content-addressed result store under (architecture hash, recipe, data hash, split seed,
  index). Workers write the store themselves, so an interrupted audit resumes where it stopped.
- :func:`load_reference_outputs`: a folder of per-reference output files trained anywhere.

A reference whose training diverges (a non-finite loss or output) is stored as diverged,
reported in the result, and left out of every score.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.errors import AnalysisInputError, describe_choices
from analysis.privacy.inputs import ModelOutputs, OutputKind
from analysis.privacy.reference_spec import ReferenceEngine, TrainingRecipe
from analysis.progress import Progress

CODE_VERSION = "1"
MIN_POOL = 100  # examples the references split between them
NOT_CLONABLE = (
    "model {model!r} cannot be cloned to train reference models ({why}); train references with your own code "
    "and pass their outputs with --reference-outputs DIR (one .npz per reference: logits or probs [n, classes] "
    "on the members then the non-members, and in_mask [n]; see docs/privacy.md)"
)
POOL_TOO_SMALL = (
    "the population has {n} examples; reference models need at least {minimum} to split into halves "
    "(add examples with --population NPZ)"
)


def reference_masks(n: int, k: int, seed: int) -> np.ndarray:
    """``[k, n]`` bool: reference ``i`` trains on example ``j``; pairs are complementary halves."""
    masks = np.zeros((k, n), dtype=bool)
    for pair in range((k + 1) // 2):
        rng = np.random.default_rng([seed, pair])
        half = np.zeros(n, dtype=bool)
        half[rng.permutation(n)[: n // 2]] = True
        masks[2 * pair] = half
        if 2 * pair + 1 < k:
            masks[2 * pair + 1] = ~half
    return masks


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainedReference:
    """One reference's outputs ``[n_pool, width]`` on the whole pool, or diverged (``outputs`` None)."""

    index: int
    outputs: np.ndarray | None
    kind: OutputKind
    final_loss: float
    cached: bool

    @property
    def diverged(self) -> bool:
        return self.outputs is None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferenceJob:
    """Everything a worker needs to train reference ``index`` (plain data: it travels to processes and Ray)."""

    key: str
    index: int
    model_path: str
    trusted: bool
    pool_path: str
    mask: np.ndarray
    recipe: dict[str, Any]
    loss: str
    seed: int
    threads: int


def check_clonable(model: Any, model_id: str) -> str:
    """The architecture hash of a clonable Keras model; AnalysisInputError pointing to --reference-outputs otherwise."""
    import keras

    if not isinstance(model, keras.Model):
        raise AnalysisInputError(
            NOT_CLONABLE.format(model=model_id, why=f"it is a {type(model).__name__}, not a Keras model")
        )
    try:
        config = model.get_config()
        keras.models.clone_model(model)
    except Exception as error:
        raise AnalysisInputError(
            NOT_CLONABLE.format(model=model_id, why=f"{type(error).__name__}: {error}"[:300])
        ) from error
    digest = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode())
    for layer in model.layers:  # data statistics a clone must keep (see _copy_statistics)
        if type(layer).__name__ == "Normalization":
            for weight in layer.get_weights():
                digest.update(np.ascontiguousarray(weight).tobytes())
    return digest.hexdigest()


def loss_for(output_kind: OutputKind, width: int) -> str:
    """The loss a clone trains with, from what the target outputs (files load without compile settings)."""
    if width == 1:
        return "binary_crossentropy"
    return (
        "sparse_categorical_crossentropy_logits"
        if output_kind is OutputKind.LOGITS
        else "sparse_categorical_crossentropy"
    )


def data_hash(x: np.ndarray, y: np.ndarray) -> str:
    digest = hashlib.sha256()
    for values in (x, y):
        array = np.ascontiguousarray(values)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def reference_key(*, architecture: str, recipe: TrainingRecipe, data: str, seed: int, index: int) -> str:
    from cache import make_key

    return make_key(
        revision=architecture,
        analysis="privacy-reference",
        params={"recipe": recipe.to_dict(), "data": data, "split_seed": seed, "index": index},
        code_version=CODE_VERSION,
    )


def train_references(
    *,
    model_id: str,
    model_path: str,
    trusted: bool,
    architecture: str,
    output_kind: OutputKind,
    width: int,
    x: np.ndarray,
    y: np.ndarray,
    k: int,
    recipe: TrainingRecipe,
    seed: int,
    workers: int,
    engine: ReferenceEngine,
    progress: Progress,
) -> list[TrainedReference]:
    """Every reference's outputs on the pool ``x`` ``[n_pool, ...]``; missing ones are trained first."""
    from analysis.paths import loupe_home, open_result_store
    from cache import NPZ

    if len(x) < MIN_POOL:
        raise AnalysisInputError(POOL_TOO_SMALL.format(n=len(x), minimum=MIN_POOL))
    masks = reference_masks(len(x), k, seed)
    data = data_hash(x, y)
    keys = [reference_key(architecture=architecture, recipe=recipe, data=data, seed=seed, index=i) for i in range(k)]
    store = open_result_store()
    try:
        missing = [i for i in range(k) if store.get(keys[i], NPZ) is None]
    finally:
        store.close()
    progress(0.0, f"references: {k - len(missing)} of {k} from the cache, {len(missing)} to train")
    if missing:
        home = loupe_home()
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="reference-pool-", dir=home) as folder:
            pool_path = os.path.join(folder, "pool.npz")
            np.savez(pool_path, x=x, y=y)
            parallel = min(workers, len(missing))
            jobs = [
                ReferenceJob(
                    key=keys[i],
                    index=i,
                    model_path=model_path,
                    trusted=trusted,
                    pool_path=pool_path,
                    mask=masks[i],
                    recipe=recipe.to_dict(),
                    loss=loss_for(output_kind, width),
                    seed=seed * 1009 + i,
                    threads=1 if parallel > 1 else 0,
                )
                for i in missing
            ]
            run = _run_on_ray if engine is ReferenceEngine.RAY else _run_local
            run(jobs, parallel, _eta_progress(progress, len(jobs)))
    store = open_result_store()
    try:
        references = []
        for i in range(k):
            value = store.get(keys[i], NPZ)
            if value is None:
                raise AnalysisInputError(
                    f"reference {i} was trained but is not in the result store; every worker must see the same "
                    "LOUPE_CACHE_DIR at the same path"
                )
            diverged = bool(value["diverged"])
            references.append(
                TrainedReference(
                    index=i,
                    outputs=None if diverged else value["outputs"],
                    # stores from before the logits fix in _train called a linear head's logits probs
                    kind=OutputKind.LOGITS if output_kind is OutputKind.LOGITS else OutputKind(str(value["kind"])),
                    final_loss=float(value["loss"][-1]) if len(value["loss"]) else float("nan"),
                    cached=i not in missing,
                )
            )
    finally:
        store.close()
    return references


def _eta_progress(progress: Progress, total: int) -> Callable[[int], None]:
    started = time.monotonic()

    def report(done: int) -> None:
        elapsed = time.monotonic() - started
        eta = elapsed / done * (total - done) if done else float("nan")
        tail = f", about {eta:.0f} s left" if done and done < total else ""
        progress(done / total, f"references: {done}/{total} trained ({elapsed:.0f} s{tail})")

    return report


def _run_local(jobs: list[ReferenceJob], workers: int, done: Callable[[int], None]) -> None:
    """One job at a time in this process (``workers == 1``), else in spawned worker processes."""
    if workers <= 1:
        for count, job in enumerate(jobs, start=1):
            train_reference_job(job)
            done(count)
        return
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(train_reference_job, job) for job in jobs]
        try:
            for count, future in enumerate(as_completed(futures), start=1):
                future.result()
                done(count)
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _run_on_ray(jobs: list[ReferenceJob], workers: int, done: Callable[[int], None]) -> None:
    """Each job as a Ray task (``RAY_ADDRESS`` picks the cluster; unset, a local instance started here)."""
    try:
        import ray
    except ImportError as error:
        raise AnalysisInputError("--engine ray needs the 'ray' package; install the pinned requirements") from error
    from analysis.paths import PROJECT_ROOT, cache_dir, loupe_home

    started = False
    if not ray.is_initialized():
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        ray.init(
            address=os.environ.get("RAY_ADDRESS") or None,
            include_dashboard=False,
            num_cpus=None if os.environ.get("RAY_ADDRESS") else max(workers, 1),
        )
        started = True
    try:
        env = {
            "LOUPE_HOME": str(loupe_home()),
            "LOUPE_CACHE_DIR": str(cache_dir()),
            "PYTHONPATH": f"{PROJECT_ROOT}{os.pathsep}${{PYTHONPATH}}",
        }
        task = ray.remote(train_reference_job).options(runtime_env={"env_vars": env})
        pending = [task.remote(job) for job in jobs]
        count = 0
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            ray.get(ready[0])
            count += 1
            done(count)
    finally:
        if started:
            ray.shutdown()


def train_reference_job(job: ReferenceJob) -> bool:
    """On a worker: train one reference and store its outputs on the whole pool; True if it diverged."""
    from analysis.paths import open_result_store
    from cache import NPZ

    store = open_result_store()
    try:
        fetched = store.get_or_compute(job.key, lambda: _train(job), NPZ)
        return bool(fetched.value["diverged"])
    finally:
        store.close()


def _train(job: ReferenceJob) -> dict[str, np.ndarray]:
    import keras
    import tensorflow as tf

    if job.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(job.threads)
            tf.config.threading.set_inter_op_parallelism_threads(job.threads)
        except RuntimeError:  # already initialised in this worker
            pass
    from analysis.models.loading import load_keras_model
    from analysis.privacy.model_outputs import _logits_runner

    keras.utils.set_random_seed(job.seed)
    target = load_keras_model(Path(job.model_path), trust_model_code=job.trusted)
    clone = keras.models.clone_model(target)
    _copy_statistics(target, clone)
    recipe = TrainingRecipe(**job.recipe)
    optimizer = {"adam": keras.optimizers.Adam, "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop}[
        recipe.optimizer
    ](learning_rate=recipe.learning_rate)
    loss = (
        keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if job.loss == "sparse_categorical_crossentropy_logits"
        else job.loss
    )
    clone.compile(optimizer=optimizer, loss=loss)
    with np.load(job.pool_path) as pool:
        x_all, y_all = pool["x"], pool["y"]
    x, y = x_all[job.mask], y_all[job.mask]
    rng = np.random.default_rng(job.seed)
    losses: list[float] = []
    if recipe.augmentation == "flip" and x.ndim == 4:  # a fresh random flip of each image every epoch
        for _ in range(recipe.epochs):
            flip = rng.uniform(size=len(x)) < 0.5
            batch_x = np.where(flip[:, None, None, None], x[:, :, ::-1], x)
            history = clone.fit(batch_x, y, batch_size=recipe.batch_size, epochs=1, shuffle=True, verbose=0)
            losses += [float(v) for v in history.history["loss"]]
            if not np.isfinite(losses[-1]):
                break
    else:
        history = clone.fit(
            x,
            y,
            batch_size=recipe.batch_size,
            epochs=recipe.epochs,
            shuffle=True,
            verbose=0,
            callbacks=[keras.callbacks.TerminateOnNaN()],
        )
        losses = [float(v) for v in history.history["loss"]]
    runner, head = _logits_runner(clone)
    outputs = np.asarray(runner.predict(x_all, batch_size=256, verbose=0)).reshape(len(x_all), -1)
    # A clone of a model that ends in a linear Dense (logits) is its own logits runner.
    kind = OutputKind.LOGITS if job.loss == "sparse_categorical_crossentropy_logits" else OutputKind.PROBS
    if runner is not clone:
        kind = OutputKind.LOGITS
        if head is not None:
            weights, bias = (np.asarray(w, dtype=np.float64) for w in head.get_weights())
            outputs = outputs.astype(np.float64) @ weights + bias
    diverged = not (np.all(np.isfinite(losses)) and np.all(np.isfinite(outputs)))
    return {
        "outputs": np.zeros((0,)) if diverged else outputs,
        "kind": np.array(kind.value),
        "loss": np.asarray(losses, dtype=np.float64),
        "diverged": np.array(diverged),
    }


def _copy_statistics(target: Any, clone: Any) -> None:
    """Adapted ``Normalization`` layers keep the target's data statistics (a clone would reset them)."""
    for source, copy in zip(target.layers, clone.layers, strict=False):
        if type(source).__name__ == "Normalization" and source.get_weights():
            copy.set_weights(source.get_weights())


def load_reference_outputs(
    folder: Path, *, n: int, labels: np.ndarray
) -> tuple[list[ModelOutputs | None], np.ndarray, list[str]]:
    """Reference outputs trained elsewhere: every ``*.npz`` in ``folder``, sorted by name.

    Each file holds ``logits`` or ``probs`` ``[n, classes]`` on the audited examples (the members,
    then the non-members, in the audit's order) and ``in_mask`` ``[n]`` (bool: the reference
    trained on that example); ``labels`` ``[n]``, if present, must equal the audit's.
    Returns ``(outputs, in_mask [K, n], file names)``; a file with non-finite outputs gives None.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise AnalysisInputError(f"--reference-outputs {str(folder)!r} is not a folder")
    files = sorted(folder.glob("*.npz"))
    if len(files) < 2:
        raise AnalysisInputError(
            f"--reference-outputs {str(folder)!r} holds {len(files)} .npz file(s); reference attacks need at least 2"
        )
    outputs, masks = [], []
    for path in files:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        kinds = [key for key in ("logits", "probs") if key in arrays]
        if len(kinds) != 1 or "in_mask" not in arrays:
            raise AnalysisInputError(
                f"reference file {path.name!r} must hold in_mask and exactly one of logits, probs; "
                f"it holds {describe_choices(sorted(arrays))}"
            )
        mask = np.asarray(arrays["in_mask"]).astype(bool).reshape(-1)
        if mask.shape != (n,) or len(arrays[kinds[0]]) != n:
            raise AnalysisInputError(
                f"reference file {path.name!r} has {len(arrays[kinds[0]])} rows of {kinds[0]} and {mask.size} "
                "of in_mask; "
                f"the audit has {n} examples (members then non-members)"
            )
        if "labels" in arrays and not np.array_equal(np.asarray(arrays["labels"]).reshape(-1), labels):
            raise AnalysisInputError(f"reference file {path.name!r} has labels that differ from the audit's")
        values = np.asarray(arrays[kinds[0]], dtype=np.float64)
        masks.append(mask)
        if not np.isfinite(values).all():  # a diverged reference: reported and left out by the caller
            outputs.append(None)
            continue
        outputs.append(
            ModelOutputs(name=f"reference file {path.name!r}", outputs=values, kind=OutputKind(kinds[0]), labels=labels)
        )
    return outputs, np.stack(masks), [p.name for p in files]
