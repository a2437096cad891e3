"""A family of variants of the credit task for the privacy-against-utility report.

tensorflow-privacy's launch post claims that membership-inference vulnerability (1) grows with
training epochs while test accuracy stays about the same, (2) falls with early stopping and (3)
falls with DP-SGD, even with little noise. These variants test the three claims on one task: the
generated lending data of ``credit-mlp`` with few training members (so that a network can fit their
noisy labels), one MLP, and

- plain training (Adam) for an increasing number of epochs,
- the same with early stopping on a validation set,
- DP-SGD (:class:`analysis.training.dp_sgd.DPSGDModel`, Poisson batches) at a few noise multipliers,
  each with its epsilon at delta from the RDP accountant, registered with the model.

Inputs are standardized with statistics of a separate "public" sample, so the members' statistics
do not enter the model outside the (DP) training step. Each variant is saved and registered as
``credit-variant-<name>`` with members and non-members linked; the command line audits them
(capabilities do not import each other).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from analysis.datasets import DatasetRole
from analysis.demo.credit import generate_credit
from analysis.models.registry import ModelRegistry, RegisterModelSpec
from analysis.training.accounting import DPGuarantee, compute_dp_guarantee

RUN_NAME = "privacy-variants"
N_MEMBERS, N_NONMEMBERS, N_TEST, N_VALIDATION, N_PUBLIC = 500, 2000, 2000, 500, 2000
BATCH_SIZE = 32
DP_BATCH_SIZE, DP_CLIP, DP_EPOCHS, DP_DELTA = 50, 1.0, 40, 1e-3
NOTE = (
    "a privacy variant of the credit task (models build-demo --privacy-variants): {what}; "
    "trained on 500 members, audited against 2000 non-members (docs/privacy_utility.md)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class VariantSpec:
    """One variant: plain training for ``epochs`` (at most, with ``early_stopping``), or DP-SGD."""

    name: str
    epochs: int
    early_stopping: bool = False
    noise_multiplier: float | None = None  # None: plain Adam; a number: DP-SGD

    def describe(self) -> str:
        if self.noise_multiplier is not None:
            return f"DP-SGD, noise multiplier {self.noise_multiplier:g}, clip {DP_CLIP:g}, {self.epochs} epochs"
        return f"{'early stopping, at most ' if self.early_stopping else ''}{self.epochs} epochs of Adam"


VARIANTS = (
    VariantSpec(name="e5", epochs=5),
    VariantSpec(name="e25", epochs=25),
    VariantSpec(name="e100", epochs=100),
    VariantSpec(name="e300", epochs=300),
    VariantSpec(name="early-stop", epochs=300, early_stopping=True),
    VariantSpec(name="dp-0.2", epochs=DP_EPOCHS, noise_multiplier=0.2),
    VariantSpec(name="dp-0.5", epochs=DP_EPOCHS, noise_multiplier=0.5),
    VariantSpec(name="dp-1.0", epochs=DP_EPOCHS, noise_multiplier=1.0),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltVariant:
    """A trained, registered variant: its model id, epochs actually trained and held-out test accuracy."""

    spec: VariantSpec
    model_id: str
    epochs_trained: int
    test_accuracy: float
    guarantee: DPGuarantee | None


def variant_data(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Disjoint members, non-members, test, validation and public samples of the credit data."""
    sizes = {"members": N_MEMBERS, "nonmembers": N_NONMEMBERS, "test": N_TEST, "validation": N_VALIDATION}
    data = generate_credit(sum(sizes.values()) + N_PUBLIC, seed=seed * 1000 + 77)
    x, y = data["x"].astype("float32"), data["y"].astype("int64")
    out, start = {}, 0
    for name, size in {**sizes, "public": N_PUBLIC}.items():
        out[name] = (x[start : start + size], y[start : start + size])
        start += size
    return out


def build_privacy_variants(
    folder: Path,
    *,
    seed: int = 0,
    registry: ModelRegistry | None = None,
    variants: tuple[VariantSpec, ...] = VARIANTS,
    report: Callable[[str], None] = lambda message: None,
) -> list[BuiltVariant]:
    """Train, save and register every variant under ``folder``; returns them in ``variants`` order."""
    registry = registry or ModelRegistry()
    folder.mkdir(parents=True, exist_ok=True)
    data = variant_data(seed)
    for side in ("members", "nonmembers"):
        np.savez(folder / f"{side}.npz", x=data[side][0], y=data[side][1], class_names=np.array(["default", "repaid"]))
    built = []
    for spec in variants:
        report(f"training credit-variant-{spec.name}: {spec.describe()}")
        model, epochs_trained, guarantee = _train(spec, data, seed=seed)
        x_test, y_test = data["test"]
        accuracy = float(np.mean(np.argmax(model.predict(x_test, verbose=0), axis=1) == y_test))
        path = folder / f"{spec.name}.keras"
        model.save(path)
        what = spec.describe() + (f" ({epochs_trained} trained)" if spec.early_stopping else "")
        notes = (NOTE.format(what=what),) + (() if guarantee is None else (f"trained with {guarantee.describe()}",))
        model_id = f"credit-variant-{spec.name}"
        registry.register(
            RegisterModelSpec(
                path=path,
                model_id=model_id,
                datasets={
                    DatasetRole.MEMBERS: folder / "members.npz",
                    DatasetRole.NONMEMBERS: folder / "nonmembers.npz",
                },
                notes=notes,
                training_privacy=None if guarantee is None else guarantee.to_dict(),
            )
        )
        report(f"  test accuracy {accuracy:.3f}" + ("" if guarantee is None else f", epsilon {guarantee.epsilon:.3g}"))
        built.append(
            BuiltVariant(
                spec=spec, model_id=model_id, epochs_trained=epochs_trained, test_accuracy=accuracy, guarantee=guarantee
            )
        )
    return built


def _architecture(public_x: np.ndarray) -> Any:
    import keras

    mean, std = public_x.mean(0), public_x.std(0) + 1e-6
    inputs = keras.Input((public_x.shape[1],), name="features")
    x = keras.layers.Normalization(mean=mean, variance=std**2, name="standardize")(inputs)
    x = keras.layers.Dense(64, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(64, activation="relu", name="dense2")(x)
    outputs = keras.layers.Dense(2, activation="softmax", name="repay")(x)
    return keras.Model(inputs, outputs, name="credit_variant")


def _train(spec: VariantSpec, data: dict, *, seed: int) -> tuple[Any, int, DPGuarantee | None]:
    import keras

    keras.utils.set_random_seed(seed + 11)
    model = _architecture(data["public"][0])
    x, y = data["members"]
    if spec.noise_multiplier is None:
        model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy")
        stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
        history = model.fit(
            x,
            y,
            batch_size=BATCH_SIZE,
            epochs=spec.epochs,
            verbose=0,
            validation_data=data["validation"] if spec.early_stopping else None,
            callbacks=[stop] if spec.early_stopping else [],
        )
        ran = len(history.history["loss"])
        stopped = spec.early_stopping and ran < spec.epochs
        trained = stop.best_epoch + 1 if stopped else ran  # restore_best_weights: the best epoch's weights
        return model, trained, None
    from analysis.training.dp_sgd import DPSGDModel, poisson_batches

    dp = DPSGDModel(
        model,
        loss="sparse_categorical_crossentropy",
        l2_norm_clip=DP_CLIP,
        noise_multiplier=spec.noise_multiplier,
        expected_batch_size=DP_BATCH_SIZE,
        seed=seed,
    )
    dp.compile(optimizer=keras.optimizers.Adam(3e-3))
    for xb, yb in poisson_batches(x, y, batch_size=DP_BATCH_SIZE, epochs=spec.epochs, seed=seed):
        dp.train_on_batch(xb, yb)
    guarantee = compute_dp_guarantee(
        n_examples=len(x),
        batch_size=DP_BATCH_SIZE,
        epochs=spec.epochs,
        noise_multiplier=spec.noise_multiplier,
        l2_norm_clip=DP_CLIP,
        delta=DP_DELTA,
    )
    return model, spec.epochs, guarantee
