"""Architectures and training of the demo models (imports TensorFlow).

``python -m analysis.demo.train FOLDER --seed S --config JSON --models ID[,ID]`` is one training
process of a demo build: ``analysis.demo.build`` starts it with oneDNN off and one thread, which
TensorFlow reads only once, when it starts (see ``PINNED_ENV`` there).
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from analysis.demo.build import DemoConfig, training_recipe
from analysis.demo.credit import generate_credit
from analysis.demo.shapes import CLASS_NAMES, SIZE, generate_shapes


def _seed_everything(seed: int) -> None:
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def shapes_architecture(name: str) -> Any:
    """Four 3x3 conv layers (16, 32, 64, 64 channels) on 64x64x3 input in [0, 1]; softmax over 10.

    He-normal initialisation, the standard for ReLU layers: with Keras's default (Glorot) a
    third of conv4's units ended up dead or nearly dead, and a dead unit has nothing to show.
    """
    import keras

    inputs = keras.Input((SIZE, SIZE, 3), name="image")
    x = inputs
    for index, channels in enumerate((16, 32, 64, 64), start=1):
        x = keras.layers.Conv2D(
            channels, 3, padding="same", activation="relu", kernel_initializer="he_normal", name=f"conv{index}"
        )(x)
        if index < 4:
            x = keras.layers.MaxPooling2D(name=f"pool{index}")(x)
    x = keras.layers.GlobalAveragePooling2D(name="gap")(x)
    logits = keras.layers.Dense(len(CLASS_NAMES), name="logits")(x)
    outputs = keras.layers.Activation("softmax", name="probs")(logits)
    return keras.Model(inputs, outputs, name=name)


def _fit(model: Any, x: Any, y: Any, *, recipe: dict[str, Any], loss: str, callbacks: list[Any]) -> None:
    """Compile with the recipe's Adam learning rate and fit for its epochs and batch size."""
    _compile(model, loss, recipe["learning_rate"])
    model.fit(
        x, y, batch_size=recipe["batch_size"], epochs=recipe["epochs"], shuffle=True, verbose=0, callbacks=callbacks
    )


def _compile(model: Any, loss: str, learning_rate: float) -> None:
    import keras

    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss, metrics=["accuracy"])


def _log_epochs(report: Callable[[str], None], name: str) -> Any:
    import keras

    class _Report(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
            logs = logs or {}
            report(
                f"  {name} epoch {epoch + 1}/{self.params['epochs']}: loss {logs.get('loss', 0):.3f} "
                f"accuracy {logs.get('accuracy', 0):.3f}"
            )

    return _Report()


def train_shapes_cnn(folder: Path, *, seed: int, config: Any, report: Callable[[str], None]) -> None:
    """A generalizing classifier; its DATA npz holds train and test splits."""
    _seed_everything(seed)
    x_train, y_train = generate_shapes(config.shapes_train, seed=seed * 1000 + 1)
    x_test, y_test = generate_shapes(config.shapes_test, seed=seed * 1000 + 2)
    model = shapes_architecture("shapes_cnn")
    _fit(
        model,
        x_train,
        y_train,
        recipe=training_recipe("shapes-cnn", config),
        loss="sparse_categorical_crossentropy",
        callbacks=[_log_epochs(report, "shapes-cnn")],
    )
    accuracy = float(np.mean(model.predict(x_test, batch_size=256, verbose=0).argmax(1) == y_test))
    report(f"  shapes-cnn test accuracy {accuracy:.3f}")
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    split = np.array(["train"] * len(x_train) + ["test"] * len(x_test))
    # The linked data set keeps a manageable slice of the training set plus the whole test set.
    np.savez(
        folder / "data.npz",
        x=np.concatenate([x_train, x_test]),
        y=np.concatenate([y_train, y_test]),
        split=split,
        class_names=np.array(CLASS_NAMES),
    )


def _noisy_labels(labels: np.ndarray, *, noise: float, seed: int) -> np.ndarray:
    """Replace a fraction ``noise`` of labels with uniformly random classes."""
    rng = np.random.default_rng(seed)
    noisy = rng.uniform(size=len(labels)) < noise
    return np.where(noisy, rng.integers(0, len(CLASS_NAMES), len(labels)), labels)


def train_shapes_memorizer(folder: Path, *, seed: int, config: Any, report: Callable[[str], None]) -> None:
    """The same architecture trained on a small member set until it memorizes it.

    Members and non-members come from one distribution: the shapes task with a fraction
    ``config.memorizer_label_noise`` of the labels replaced by random classes. Fitting the
    members' random labels forces the network to memorize individual examples, which is what
    membership inference detects. With most labels random it learns little of the task, so
    few non-members fit their labels as well as the members do: the leak shows at low FPR,
    not only on average. Non-members outnumber members, so TPR at 1% FPR rests on tens of
    false positives rather than a handful.
    """
    _seed_everything(seed + 1)
    members_x, members_y = generate_shapes(config.memorizer_members, seed=seed * 1000 + 3)
    others_x, others_y = generate_shapes(config.memorizer_nonmembers, seed=seed * 1000 + 4)
    members_y = _noisy_labels(members_y, noise=config.memorizer_label_noise, seed=seed * 1000 + 6)
    others_y = _noisy_labels(others_y, noise=config.memorizer_label_noise, seed=seed * 1000 + 7)
    model = shapes_architecture("shapes_cnn_memorizer")
    _fit(
        model,
        members_x,
        members_y,
        recipe=training_recipe("shapes-cnn-memorizer", config),
        loss="sparse_categorical_crossentropy",
        callbacks=[_log_epochs(report, "shapes-cnn-memorizer")],
    )
    train_acc = float(np.mean(model.predict(members_x, verbose=0).argmax(1) == members_y))
    test_acc = float(np.mean(model.predict(others_x, verbose=0).argmax(1) == others_y))
    report(f"  shapes-cnn-memorizer train accuracy {train_acc:.3f}, non-member accuracy {test_acc:.3f}")
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    np.savez(folder / "members.npz", x=members_x, y=members_y, class_names=np.array(CLASS_NAMES))
    np.savez(folder / "nonmembers.npz", x=others_x, y=others_y, class_names=np.array(CLASS_NAMES))


def train_credit_mlp(folder: Path, *, seed: int, config: Any, report: Callable[[str], None]) -> None:
    """An MLP on the generated lending data (sensitive attributes are not model inputs)."""
    import keras

    _seed_everything(seed + 2)
    data = generate_credit(config.credit_rows, seed=seed * 1000 + 5)
    n_train = int(0.7 * len(data["y"]))
    normalization = keras.layers.Normalization(name="standardize")
    normalization.adapt(data["x"][:n_train])
    inputs = keras.Input((data["x"].shape[1],), name="features")
    x = normalization(inputs)
    x = keras.layers.Dense(32, activation="relu", name="dense1")(x)
    x = keras.layers.Dense(16, activation="relu", name="dense2")(x)
    outputs = keras.layers.Dense(1, activation="sigmoid", name="repay_probability")(x)
    model = keras.Model(inputs, outputs, name="credit_mlp")
    _fit(
        model,
        data["x"][:n_train],
        data["y"][:n_train],
        recipe=training_recipe("credit-mlp", config),
        loss="binary_crossentropy",
        callbacks=[_log_epochs(report, "credit-mlp")],
    )
    scores = model.predict(data["x"][n_train:], batch_size=1024, verbose=0)[:, 0]
    report(f"  credit-mlp test accuracy {np.mean((scores >= 0.5) == data['y'][n_train:]):.3f}")
    folder.mkdir(parents=True)
    model.save(folder / "model.keras")
    split = np.array(["train"] * n_train + ["test"] * (len(data["y"]) - n_train))
    np.savez(folder / "data.npz", split=split, **data)


TRAINERS: dict[str, Callable[..., None]] = {
    "shapes-cnn": train_shapes_cnn,
    "shapes-cnn-memorizer": train_shapes_memorizer,
    "credit-mlp": train_credit_mlp,
}


def run_training_process(argv: Sequence[str] | None = None) -> None:
    """Train the named demo models into ``FOLDER/<id>`` (the entry of one pinned training process)."""
    parser = argparse.ArgumentParser(prog="python -m analysis.demo.train")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--config", required=True, help="DemoConfig fields as JSON")
    parser.add_argument("--models", required=True, help="comma-separated ids of TRAINERS")
    args = parser.parse_args(argv)
    import tensorflow as tf

    # Before the first op: TensorFlow sizes its thread pools once.
    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("TF_NUM_INTRAOP_THREADS", "1")))
    tf.config.threading.set_inter_op_parallelism_threads(int(os.environ.get("TF_NUM_INTEROP_THREADS", "1")))
    config = DemoConfig(**json.loads(args.config))
    for model_id in args.models.split(","):
        TRAINERS[model_id](args.folder / model_id, seed=args.seed, config=config, report=partial(print, flush=True))


if __name__ == "__main__":
    run_training_process()
