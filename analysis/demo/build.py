"""Build, save and register the three demo models, deterministically and offline.

Builds are cached on disk under ``<build root>/<code hash>-seed<seed>/``, where the code
hash covers this package's source and the Keras version: the same code and seed reuse the
same files (and so the same revision hashes), a change to a generator or a trainer
rebuilds. The build root is ``LOUPE_DEMO_BUILD_DIR`` (default ``<LOUPE_HOME>/demo-builds``).
A build is written to a temporary folder and renamed into place when complete, under a
file lock, so concurrent builders never see half a build.

Training runs in child processes with TensorFlow pinned (``PINNED_ENV``: oneDNN off, one
thread, deterministic ops), so a build gives the same weights whatever the caller's threads
or oneDNN setting; two such processes train side by side so the build takes about as long as
one multi-threaded process did. docs/reproducibility.md says what this does and does not fix.
"""

from __future__ import annotations

import ast
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetRole
from analysis.models.registry import ModelRecord, ModelRegistry, RegisterModelSpec
from analysis.paths import loupe_home

DEMO_IDS = ("shapes-cnn", "shapes-cnn-memorizer", "credit-mlp")
# What TensorFlow reads once at start-up and what changes its arithmetic: oneDNN's kernels pick
# their code path by CPU and its round-off differs from Eigen's; a second thread splits sums
# differently. (Deterministic ops are switched on in the trainer itself.)
PINNED_ENV = {
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "TF_NUM_INTRAOP_THREADS": "1",
    "TF_NUM_INTEROP_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "CUDA_VISIBLE_DEVICES": "",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
# One single-threaded training process per group, run side by side (each group takes about
# as long as the other); seeds are per model, so the grouping does not change the weights.
TRAINING_GROUPS = (("shapes-cnn",), ("shapes-cnn-memorizer", "credit-mlp"))


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoConfig:
    """Sizes and epochs of the demo builds; ``tiny()`` is for tests of the builder itself."""

    shapes_train: int = 8000
    shapes_test: int = 2000
    shapes_epochs: int = 8
    memorizer_members: int = 250
    memorizer_nonmembers: int = 2000
    memorizer_label_noise: float = 0.6
    memorizer_epochs: int = 300
    credit_rows: int = 20000
    credit_epochs: int = 12

    @classmethod
    def tiny(cls) -> DemoConfig:
        return cls(
            shapes_train=64,
            shapes_test=32,
            shapes_epochs=1,
            memorizer_members=32,
            memorizer_nonmembers=32,
            memorizer_epochs=2,
            credit_rows=256,
            credit_epochs=1,
        )


REPRODUCIBILITY_NOTE = (
    "a demo model trained on this machine (oneDNN off, one thread, deterministic ops): every build here gives "
    "the same weights, but another CPU may give other weights and so another revision hash, so a pinned rev= "
    "link to a demo model may not open elsewhere (docs/reproducibility.md)"
)


def training_recipe(model_id: str, config: DemoConfig) -> dict[str, Any]:
    """How a demo model is trained (Adam, no augmentation), in the fields of a reference-attack
    training recipe: registered with the model, so reference audits train their references the
    same way unless told otherwise (docs/privacy.md)."""
    recipes = {
        "shapes-cnn": {"epochs": config.shapes_epochs, "batch_size": 64, "learning_rate": 2e-3},
        "shapes-cnn-memorizer": {"epochs": config.memorizer_epochs, "batch_size": 32, "learning_rate": 2e-3},
        "credit-mlp": {"epochs": config.credit_epochs, "batch_size": 128, "learning_rate": 3e-3},
    }
    return {**recipes[model_id], "optimizer": "adam", "augmentation": "off"}


def builder_code_hash() -> str:
    """Hash of the demo package's code (syntax trees) and the Keras and TensorFlow versions."""
    from importlib import metadata

    # Another TensorFlow may change a kernel's arithmetic, and so the weights.
    versions = [metadata.version("keras")] + [_version_or_none(name) for name in ("tensorflow-cpu", "tensorflow")]
    digest = hashlib.sha256(" ".join(map(str, versions)).encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        # The syntax tree, not the bytes: reformatting or editing comments does not retrain.
        digest.update(source.name.encode() + ast.dump(ast.parse(source.read_text())).encode())
    return digest.hexdigest()[:16]


def _version_or_none(distribution: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def demo_build_root() -> Path:
    configured = os.environ.get("LOUPE_DEMO_BUILD_DIR")
    return Path(configured).expanduser() if configured else loupe_home() / "demo-builds"


def build_demo_models(
    *,
    seed: int = 0,
    config: DemoConfig | None = None,
    registry: ModelRegistry | None = None,
    if_missing: bool = False,
    report: Callable[[str], None] = print,
) -> list[ModelRecord]:
    """Build (or reuse) the demo models and register them; returns their records."""
    config = config or DemoConfig()
    registry = registry or ModelRegistry()
    tag = "tiny-" if config != DemoConfig() else ""
    folder = demo_build_root() / f"{tag}{builder_code_hash()}-seed{seed}"
    if if_missing and _all_registered_from(registry, folder):
        report("demo models already registered; nothing to do")
        return [registry.get(model_id) for model_id in DEMO_IDS]
    _ensure_built(folder, seed=seed, config=config, report=report)
    records = []
    for model_id in DEMO_IDS:
        model_folder = folder / model_id
        datasets = {DatasetRole(p.stem): p for p in sorted(model_folder.glob("*.npz"))}
        report(f"registering {model_id}")
        records.append(
            registry.register(
                RegisterModelSpec(
                    path=model_folder / "model.keras",
                    model_id=model_id,
                    datasets=datasets,
                    notes=(REPRODUCIBILITY_NOTE,),
                    training_recipe=training_recipe(model_id, config),
                )
            )
        )
    return records


def _all_registered_from(registry: ModelRegistry, folder: Path) -> bool:
    known = set(registry.ids())
    return (
        all(
            model_id in known
            and Path(registry.get(model_id).current.path) == (folder / model_id / "model.keras").resolve()
            for model_id in DEMO_IDS
        )
        and (folder / "COMPLETE").exists()
    )


def _ensure_built(folder: Path, *, seed: int, config: DemoConfig, report: Callable[[str], None]) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    with open(folder.parent / ".build.lock", "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        if (folder / "COMPLETE").exists():
            report(f"reusing demo build {folder}")
            return
        staging = folder.with_name(folder.name + f".partial-{os.getpid()}")
        shutil.rmtree(staging, ignore_errors=True)
        started = time.perf_counter()
        report(f"building demo models into {folder} (seed {seed}); this takes a few minutes once")
        _train_pinned(staging, seed=seed, config=config, report=report)
        (staging / "COMPLETE").write_text(f"built in {time.perf_counter() - started:.1f} s\n")
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(staging, folder)
        report(f"demo models built in {time.perf_counter() - started:.1f} s")


def _train_pinned(staging: Path, *, seed: int, config: DemoConfig, report: Callable[[str], None]) -> None:
    """Train every demo model into ``staging/<id>``, one pinned process per training group."""
    staging.mkdir(parents=True)
    env = {**os.environ, **PINNED_ENV}
    project_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (project_root, os.environ.get("PYTHONPATH"))))
    children = []
    for group in TRAINING_GROUPS:
        command = [sys.executable, "-m", "analysis.demo.train", str(staging), "--seed", str(seed)]
        command += ["--config", json.dumps(asdict(config)), "--models", ",".join(group)]
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        errors: list[str] = []
        relays = [
            threading.Thread(target=_relay, args=(child.stdout, report), daemon=True),
            threading.Thread(target=_relay, args=(child.stderr, errors.append), daemon=True),
        ]
        for relay in relays:
            relay.start()
        children.append((group, child, relays, errors))
    failed = []
    for group, child, relays, errors in children:
        child.wait()
        for relay in relays:
            relay.join()
        if child.returncode != 0:
            failed.append(f"training {', '.join(group)} failed (exit {child.returncode}):\n" + "\n".join(errors[-20:]))
    if failed:
        raise RuntimeError("\n".join(failed))


def _relay(stream: object, sink: Callable[[str], None]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink(line.rstrip("\n"))


def weights_hash(model: object) -> str:
    """SHA-256 over a Keras model's weights, for determinism checks."""
    digest = hashlib.sha256()
    for array in model.get_weights():  # type: ignore[attr-defined]
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
