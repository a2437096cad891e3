"""``python -m analysis models list|add|show|build-demo``."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from pathlib import Path

from analysis.cli.output import add_json_option, emit, parse_range, progress
from analysis.data_forms import CONVERTED_SUFFIXES, DataSourceSpec, Fit
from analysis.datasets import DatasetRole
from analysis.demo.build import DEMO_IDS
from analysis.errors import AnalysisInputError
from analysis.models.registry import ModelRecord, ModelRegistry, RegisterModelSpec
from analysis.models.summary import units_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="register, list and inspect models")
    verbs = models.add_subparsers(dest="verb", required=True, metavar="VERB")

    listing = verbs.add_parser("list", help="list registered models with their layers")
    add_json_option(listing)
    listing.set_defaults(handler=run_list)

    add = verbs.add_parser(
        "add", help="register a .keras, .h5, SavedModel or frozen GraphDef .pb model (a new revision if it changed)"
    )
    add.add_argument("path", help="the model file or SavedModel folder")
    add.add_argument("--id", required=True, dest="model_id", help="a short id (slug), e.g. my-cnn")
    add.add_argument(
        "--data", help="data set: .npz (x, y, ...), an image folder (class subfolders, or labels.csv), .csv or .parquet"
    )
    add.add_argument("--members", help="training members (for privacy audits), in any --data form")
    add.add_argument("--nonmembers", help="held-out non-members (for privacy audits), in any --data form")
    add_data_form_options(add)
    add.add_argument("--input-range", help="value range the model expects, LO,HI (default: inferred)")
    add.add_argument("--trust-model-code", action="store_true", help="allow Lambda layers and custom objects")
    add.add_argument("--replace-demo", action="store_true", help="allow replacing a demo model's id (shapes-cnn, ...)")
    add.add_argument("--input-name", help="a frozen GraphDef's input placeholder (default: 'input' or the only one)")
    add.add_argument("--input-size", type=int, help="a frozen GraphDef's square input side in pixels (default: 224)")
    add.add_argument(
        "--training-recipe",
        metavar="FILE",
        help="how this file was trained, .json or .yaml (epochs, batch_size, optimizer, learning_rate, augmentation): "
        "the recipe reference-model privacy attacks train with unless the audit gives one (docs/privacy.md)",
    )
    add_json_option(add)
    add.set_defaults(handler=run_add)

    application = verbs.add_parser(
        "add-application", help="register a keras.applications model from a local weights file (never downloads)"
    )
    application.add_argument("name", help="the keras.applications name, e.g. MobileNetV2")
    application.add_argument("--id", required=True, dest="model_id", help="a short id (slug), e.g. mobilenet-v2")
    application.add_argument("--weights", help="local weights file (default: Keras's cache, ~/.keras/models/)")
    application.add_argument("--input-size", type=int, help="square input side in pixels (default: the model's)")
    application.add_argument("--data", help=".npz with x (raw RGB in [0, 255]), y")
    application.add_argument(
        "--replace-demo", action="store_true", help="allow replacing a demo model's id (shapes-cnn, ...)"
    )
    add_json_option(application)
    application.set_defaults(handler=run_add_application)

    show = verbs.add_parser("show", help="show one model: revisions, layers, datasets")
    show.add_argument("model_id")
    add_json_option(show)
    show.set_defaults(handler=run_show)

    demo = verbs.add_parser("build-demo", help="build and register the demo models (offline, deterministic)")
    demo.add_argument("--if-missing", action="store_true", help="skip models that are already registered")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument(
        "--privacy-variants",
        action="store_true",
        help="instead: build, register and audit the credit-task variants (epochs, early stopping, DP-SGD) "
        "compared by 'privacy-report --run privacy-variants' (a few minutes)",
    )
    add_json_option(demo)
    demo.set_defaults(handler=run_build_demo)


def add_data_form_options(parser: argparse.ArgumentParser) -> None:
    """Columns of a CSV/Parquet table and the image policy, shared by every data set of the command."""
    forms = parser.add_argument_group("tables and image folders (docs/models_beyond_demo.md)")
    forms.add_argument("--label", default="label", help="a table's label column (default: label)")
    forms.add_argument("--features", help="a table's feature columns, comma-separated (default: every numeric one)")
    forms.add_argument("--meta", help="a table's metadata columns for slicing (e.g. sex,age_band)")
    forms.add_argument("--labels-csv", help="a flat image folder's file,label[,metadata] CSV (default: labels.csv)")
    forms.add_argument(
        "--fit", choices=[f.value for f in Fit], default=Fit.RESIZE.value, help="images: resize (default) or crop"
    )


def data_source(path: str, args: argparse.Namespace) -> Path | DataSourceSpec:
    """An .npz as its path; a folder or table as a spec with the command's column and image options."""
    if not (Path(path).is_dir() or Path(path).suffix.lower() in CONVERTED_SUFFIXES):
        return Path(path)
    return DataSourceSpec(
        path=Path(path),
        label=args.label,
        features=args.features or (),
        meta=args.meta or (),
        labels_csv=Path(args.labels_csv) if args.labels_csv else None,
        fit=Fit(args.fit),
    )


def converted_data_arg(model_id: str | None, path: str | None, *, meta: Iterable[str] = ()) -> str | None:
    """A folder or table given to an analysis command (``privacy --members``, ``fairness --data``, ``explain
    --data``), converted for the model's input (``meta``: a table's columns to keep for slicing); an ``.npz``
    and None pass through as they are."""
    if not path or not model_id or not (Path(path).is_dir() or Path(path).suffix.lower() in CONVERTED_SUFFIXES):
        return path
    source = DataSourceSpec(path=Path(path), meta=tuple(m for m in meta if m))
    return str(ModelRegistry().converted_data_path(model_id, source))


def _describe(record: ModelRecord) -> str:
    summary = record.current.summary
    lines = [
        f"{record.model_id}  rev {record.current.short}  {summary.format.value}  input {list(summary.input_shape)} "
        f"in [{summary.input_range[0]:g}, {summary.input_range[1]:g}]  output {summary.output_kind} "
        f"{list(summary.output_shape)}  {summary.parameter_count:,} parameters"
    ]
    lines += [
        f"    {layer.name:<24} {layer.kind:<24} {list(layer.output_shape)!s:<16} {units_text(layer.units)}"
        for layer in summary.layers
    ]
    if record.training_recipe is not None:
        lines.append(
            "    training recipe: " + ", ".join(f"{name} {value}" for name, value in record.training_recipe.items())
        )
    lines += [
        f"    data[{d.role.value}]: {d.source['path'] if d.source else d.path} ({d.n_examples} examples"
        + (f"; converted from {d.source['form']}" if d.source else "")
        + (f", {d.source['skipped']} unreadable files skipped" if d.source and d.source["skipped"] else "")
        + ")"
        for d in record.datasets
    ]
    return "\n".join(lines)


def run_list(args: argparse.Namespace) -> int:
    records = ModelRegistry().list()
    human = (
        "\n".join(_describe(r) for r in records) or "no models registered; try: python -m analysis models build-demo"
    )
    emit({"models": [r.to_dict() for r in records]}, args.json, human)
    return 0


DEMO_ID = (
    "model id {model_id!r} belongs to a demo model, which `models build-demo` rebuilds; "
    "pass --replace-demo to replace it anyway, or choose another id"
)


def check_demo_id(args: argparse.Namespace) -> None:
    """Demo ids are the operator's: refused unless ``--replace-demo`` says so explicitly."""
    if args.model_id in DEMO_IDS and not args.replace_demo:
        raise AnalysisInputError(DEMO_ID.format(model_id=args.model_id))


def load_training_recipe(path: str | None) -> dict | None:
    """The ``--training-recipe`` file as a plain mapping, checked field by field like the privacy ``--recipe``
    file (AnalysisInputError naming the file and the valid fields), so nothing is registered with a bad one."""
    if path is None:
        return None
    from analysis.privacy.reference_spec import TrainingRecipe

    return TrainingRecipe.load(Path(path)).to_dict()


def run_add(args: argparse.Namespace) -> int:
    check_demo_id(args)
    training_recipe = load_training_recipe(args.training_recipe)
    datasets = {
        role: data_source(path, args)
        for role, path in (
            (DatasetRole.DATA, args.data),
            (DatasetRole.MEMBERS, args.members),
            (DatasetRole.NONMEMBERS, args.nonmembers),
        )
        if path
    }
    spec = RegisterModelSpec(
        path=Path(args.path),
        model_id=args.model_id,
        datasets=datasets,
        trust_model_code=args.trust_model_code,
        input_range=parse_range(args.input_range) if args.input_range else None,
        input_name=args.input_name,
        input_size=args.input_size,
        training_recipe=training_recipe,
    )
    record = ModelRegistry().register(spec)
    _queue_precompute([record])
    emit(record.to_dict(), args.json, "registered\n" + _describe(record))
    return 0


def run_add_application(args: argparse.Namespace) -> int:
    from analysis.models.applications import AddApplicationSpec, add_application

    check_demo_id(args)
    spec = AddApplicationSpec(
        name=args.name,
        model_id=args.model_id,
        weights=Path(args.weights) if args.weights else None,
        input_size=args.input_size,
        datasets={DatasetRole.DATA: Path(args.data)} if args.data else {},
    )
    record = add_application(spec)
    _queue_precompute([record])
    emit(record.to_dict(), args.json, "registered\n" + _describe(record))
    return 0


def run_show(args: argparse.Namespace) -> int:
    record = ModelRegistry().get(args.model_id)
    revisions = "\n".join(
        f"    revision {r.short} registered {r.registered_at} from {r.path}" for r in record.revisions
    )
    emit(record.to_dict(), args.json, _describe(record) + "\n" + revisions)
    return 0


def _queue_precompute(records: Iterable[ModelRecord]) -> None:
    """Queue every unit of every layer of these models for the background worker (idempotent)."""
    from analysis.microscope.precompute_queue import enqueue_record

    for record in records:
        enqueue_record(record)


def run_build_demo(args: argparse.Namespace) -> int:
    if args.privacy_variants:
        from analysis.cli.privacy_variants import build_and_audit_variants

        ids = build_and_audit_variants(seed=args.seed, report=progress)
        emit({"run": "privacy-variants", "audits": ids}, args.json, "\n".join(ids))
        return 0
    from analysis.demo.build import build_demo_models

    records = build_demo_models(seed=args.seed, if_missing=args.if_missing, report=progress)
    _queue_precompute(records)
    emit({"models": [r.to_dict() for r in records]}, args.json, "\n".join(_describe(r) for r in records))
    return 0
