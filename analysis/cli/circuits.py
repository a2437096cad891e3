"""``python -m analysis circuits``: what a unit is built from (expanded weights or attribution on data).

    python -m analysis circuits --model shapes-cnn --layer conv4 --unit 12 [--from conv3] [--top 8]
        [--method weights|attribution] [--claim 3,17] [--rev HASH] [--json PATH]

The whole layer pair is computed once (every unit of ``--layer``) and cached, so asking for
another unit of the same layer is a cache read; without ``--unit`` the command only precomputes
the pair (what the unit pages show).
"""

from __future__ import annotations

import argparse
from typing import Any

from analysis.cli.output import add_json_option, emit, progress
from analysis.microscope.circuits import (
    DEFAULT_EXAMPLES,
    DEFAULT_TOP,
    ConnectionMethod,
    ConnectionsSpec,
    compute_connections,
    parse_claim,
    resolve_from_layer,
)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    circuits = subparsers.add_parser(
        "circuits", help="a unit's strongest incoming units: expanded weights or attribution on data"
    )
    circuits.add_argument("--model", required=True, dest="model_id", help="a registered model id")
    circuits.add_argument("--rev", help="a revision hash prefix (default: the current revision)")
    circuits.add_argument("--layer", required=True, help="the target layer (see 'models show')")
    circuits.add_argument("--unit", help="the target unit (default: precompute the layer pair only)")
    circuits.add_argument(
        "--from", dest="from_layer", help="the source layer (default: the nearest earlier layer with units)"
    )
    circuits.add_argument("--top", default=str(DEFAULT_TOP), help=f"units per sign (default {DEFAULT_TOP})")
    circuits.add_argument(
        "--method",
        default=ConnectionMethod.WEIGHTS.value,
        help="weights (expanded weights, default) or attribution (gradient x activation on the linked data set)",
    )
    circuits.add_argument("--claim", help="source units to rank, e.g. 373,237: their ranks and share of the total")
    circuits.add_argument(
        "--examples",
        type=int,
        default=DEFAULT_EXAMPLES,
        help=f"attribution's sample of the data set (default {DEFAULT_EXAMPLES})",
    )
    add_json_option(circuits)
    circuits.set_defaults(handler=run_circuits)


def _integer(text: str, what: str, low: int, high: int) -> int:
    from analysis.errors import AnalysisInputError

    try:
        value = int(str(text).strip())
    except ValueError as error:
        raise AnalysisInputError(f"{what} {text!r} is not an integer; valid values are {low}-{high}") from error
    if not low <= value <= high:
        raise AnalysisInputError(f"{what} {value} is out of range; valid values are {low}-{high}")
    return value


def _lines(payload: dict[str, Any]) -> list[str]:
    how = "cached" if payload["cached"] else f"computed in {payload['seconds']} s"
    lines = [f"{payload['model']} {payload['from_layer']} -> {payload['layer']} ({payload['method']}, {how})"]
    if "unit" not in payload:
        return lines
    for sign in ("excitatory", "inhibitory"):
        lines.append(f"{sign} units of {payload['from_layer']} into {payload['layer']}:{payload['unit']}:")
        lines += [
            f"  #{c['rank']:<4} unit {c['unit']:<5} {c['value']:+.4g} (L2 {c['strength']:.4g})" for c in payload[sign]
        ]
    if "claim" in payload:
        lines.append("claim: " + payload["claim"]["sentence"])
    lines.append(f"page: {payload['url']}")
    return lines


def run_circuits(args: argparse.Namespace) -> int:
    from analysis.microscope.featurevis.spec import microscope_url
    from analysis.models.registry import ModelRegistry

    spec = ConnectionsSpec(
        model_id=args.model_id,
        layer=args.layer,
        from_layer=args.from_layer,
        method=args.method,
        revision=args.rev,
        n_examples=args.examples,
    )
    revision = ModelRegistry().resolve(args.model_id, args.rev)
    layer = revision.summary.layer(args.layer)  # names the valid layers
    from_layer = resolve_from_layer(revision, args.layer, args.from_layer)
    unit = None if args.unit is None else _integer(args.unit, "unit", 0, layer.units - 1)
    top = _integer(args.top, "top", 1, 1000)
    claim = () if args.claim is None else parse_claim(args.claim, revision.summary.layer(from_layer).units, from_layer)
    if claim and unit is None:
        from analysis.errors import AnalysisInputError

        raise AnalysisInputError("--claim needs --unit: the target unit whose sources it ranks")
    result = compute_connections(spec, progress=lambda fraction, message: progress(f"circuits: {message}"))
    payload = result.to_dict(unit, top=top, claim=claim)
    if unit is not None:
        query = f"&conn={result.method.value}&from={result.from_layer}" + (
            f"&claim={','.join(map(str, claim))}" if claim else ""
        )
        payload["url"] = microscope_url(args.model_id, args.layer, unit) + query
    emit(payload, args.json, "\n".join(_lines(payload)))
    return 0
