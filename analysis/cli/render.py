"""``python -m analysis render``: precompute feature visualizations for a layer (resumable).

    python -m analysis render --model shapes-cnn --layer conv4 [--units 0-63] [--objective channel]
        [--steps 512] [--batch 32] [--seed 0] [--engine local|ray] [--json PATH]

Progress goes to stderr; units already in the result store are skipped (and reported as
cached), so an interrupted run picks up where it stopped. The defaults are the Microscope
page's, so this precomputes exactly what the pages show.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from typing import Any

from analysis.cli.output import add_json_option, emit, parse_int_ranges
from analysis.microscope.featurevis.spec import (
    DEFAULT_BATCH,
    DEFAULT_SEED,
    DEFAULT_STEPS,
    ObjectiveKind,
    RenderSpec,
    UnitRendering,
    microscope_url,
)
from analysis.models.summary import units_text


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    render = subparsers.add_parser("render", help="precompute feature visualizations of a layer's units (resumable)")
    render.add_argument("--model", required=True, dest="model_id", help="a registered model id")
    render.add_argument("--rev", help="a revision hash prefix (default: the current revision)")
    render.add_argument("--layer", required=True, help="a layer with units (see 'models show')")
    render.add_argument("--units", help="units to render, e.g. 0-63 or 0,5,7 (default: all of the layer)")
    render.add_argument(
        "--objective",
        default=ObjectiveKind.CHANNEL.value,
        help=f"one of {', '.join(k.value for k in ObjectiveKind if k is not ObjectiveKind.DIRECTION)}"
        " (default: channel)",
    )
    render.add_argument(
        "--steps", type=int, default=DEFAULT_STEPS, help=f"optimisation steps (default {DEFAULT_STEPS})"
    )
    render.add_argument(
        "--batch",
        type=int,
        default=DEFAULT_BATCH,
        help=f"images optimised together (default {DEFAULT_BATCH}); does not change results",
    )
    render.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    render.add_argument(
        "--example", type=int, help="for --objective caricature: the row of the linked data set to exaggerate"
    )
    render.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local (this process) or ray (a Ray cluster sharing the result store)",
    )
    render.add_argument(
        "--no-restart-dead-units",
        dest="restart_dead_units",
        action="store_false",
        help="keep lucid's result for a unit it leaves at 0 instead of optimising it again "
        "from its strongest dataset example (pages use the default: restart)",
    )
    add_json_option(render)
    render.set_defaults(handler=run_render)


class ProgressBar:
    """A one-line bar on stderr when it is a terminal, otherwise a line every 10%."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.last_decile = -1

    def __call__(self, fraction: float, message: str) -> None:
        percent = round(100 * fraction)
        if self.tty:
            filled = percent * 30 // 100
            self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {percent:3d}% {message:<60.60}")
            if fraction >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
            return
        decile = percent // 10
        if decile != self.last_decile or fraction >= 1.0 or fraction == 0.0:
            self.last_decile = decile
            print(f"render {percent:3d}% {message}", file=self.stream, flush=True)


def _units(args: argparse.Namespace, kind: ObjectiveKind) -> tuple[int, ...]:
    from analysis.models.registry import ModelRegistry

    layer = ModelRegistry().resolve(args.model_id, args.rev).summary.layer(args.layer)  # names valid layers
    if not kind.per_unit:
        return ()
    if args.units is None:
        return tuple(range(layer.units))
    return tuple(parse_int_ranges(args.units, upper=layer.units))


def _dataset_maxima(spec: RenderSpec, progress: ProgressBar) -> dict[int, float] | None:
    """Each unit's strongest activation over the linked data set (None if no data set is linked)."""
    from analysis.datasets import DatasetRole
    from analysis.microscope.dataset_examples import DatasetExamplesSpec, Ranking, compute_dataset_examples
    from analysis.models.registry import ModelRegistry

    if not spec.objective.per_unit or ModelRegistry().get(spec.model_id).dataset(DatasetRole.DATA) is None:
        return None
    examples = compute_dataset_examples(
        DatasetExamplesSpec(model_id=spec.model_id, layer=spec.layer, revision=spec.revision),
        progress=lambda fraction, message: progress(fraction, "dataset examples: " + message),
    )
    by = Ranking.MAX if spec.objective.needs_spatial else Ranking.MEAN
    return {unit: examples.strongest(unit, by) for unit in spec.units}


def unit_entry(rendering: UnitRendering, spec: RenderSpec, maxima: dict[int, float] | None) -> dict[str, Any]:
    """One unit of the ``render`` JSON (documented in docs/cli.md)."""
    maximum = None if maxima is None or rendering.unit is None else maxima.get(rendering.unit)
    return {
        "unit": rendering.unit,
        "objective": spec.objective.value,
        "steps": spec.steps,
        "seed": spec.seed,
        "activation": rendering.activation if math.isfinite(rendering.activation) else None,
        "max_dataset_activation": maximum,
        "cached": rendering.cached,
        "url": rendering.url if rendering.unit is None else microscope_url(spec.model_id, spec.layer, rendering.unit),
        "notes": list(rendering.notes),
    }


def run_render(args: argparse.Namespace) -> int:
    kind = ObjectiveKind.parse(args.objective)
    if kind is ObjectiveKind.DIRECTION:
        from analysis.errors import AnalysisInputError

        raise AnalysisInputError("objective 'direction' needs a vector; use the Python API (RenderSpec(direction=...))")
    spec = RenderSpec(
        model_id=args.model_id,
        revision=args.rev,
        layer=args.layer,
        units=_units(args, kind),
        objective=kind,
        steps=args.steps,
        batch=args.batch,
        seed=args.seed,
        example=args.example,
        restart_dead_units=args.restart_dead_units,
    )
    bar = ProgressBar()
    started = time.perf_counter()
    if args.engine == "ray":
        from analysis.microscope.featurevis.ray_engine import render_units_on_ray

        renderings = render_units_on_ray(spec, progress=bar)
    else:
        from analysis.microscope.featurevis.render import render_units

        renderings = render_units(spec, progress=bar)
    minutes = (time.perf_counter() - started) / 60
    rendered = sum(not r.cached for r in renderings)
    per_minute = round(rendered / minutes, 2) if rendered and minutes > 0 else None
    maxima = _dataset_maxima(spec, bar)
    payload = {
        "model": spec.model_id,
        "revision": renderings[0].revision,
        "layer": spec.layer,
        "units": [unit_entry(r, spec, maxima) for r in renderings],
        "units_per_minute": per_minute,
    }
    lines = [
        f"{'unit':>6} {'activation':>12} {'dataset max':>12}  cached  url",
        *(
            f"{e['unit'] if e['unit'] is not None else '-':>6} {e['activation'] or 0.0:>12.4f} "
            f"{'-' if e['max_dataset_activation'] is None else format(e['max_dataset_activation'], '.4f'):>12}  "
            f"{'yes' if e['cached'] else 'no ':<6}  {e['url']}"
            for e in payload["units"]
        ),
        f"{units_text(len(renderings))} of {spec.layer!r} "
        f"({spec.objective.value}, {spec.steps} steps, seed {spec.seed}): "
        f"{rendered} rendered, {len(renderings) - rendered} from the cache; "
        + (f"{per_minute} units/minute" if per_minute is not None else "nothing to render"),
    ]
    emit(payload, args.json, "\n".join(lines))
    if args.json == "-":
        print(lines[-1], file=sys.stderr)
    return 0
