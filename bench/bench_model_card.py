"""Model cards for the ``credit-mlp`` demo: time to build and render each format, and file sizes.

Registers the demo models in a temporary Loupe home (reusing the cached demo build in
``.loupe/demo-builds``), stores one fairness record (sex, age_band, group and sex*age_band
at thresholds 0.3/0.5/0.7, 1000 bootstrap resamples) and one privacy audit (threshold and
entropy attacks on the train split as members and the test split as non-members, sliced
by class, loss percentile, correctness and sex), then times the card: assembly with schema
validation (``build_model_card``, drawing the JSON card's PNG charts afresh each time) and
each renderer, as the median of ``--repeats`` runs.
Run: ``.venv/bin/python bench/bench_model_card.py [--repeats 20]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _split(data: dict[str, np.ndarray], name: str, path: Path) -> Path:
    keep = data["split"] == name
    np.savez(path, **{k: v[keep] for k, v in data.items() if k not in ("split", "feature_names")})
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--out", type=Path, help="also write the four cards to this folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="loupe-card-bench-"))
    os.environ["LOUPE_HOME"] = str(root / "home")
    os.environ.setdefault(
        "LOUPE_DEMO_BUILD_DIR", str(Path(__file__).resolve().parent.parent / ".loupe" / "demo-builds")
    )

    from analysis.datasets import DatasetRole, load_npz
    from analysis.demo.build import build_demo_models
    from analysis.fairness import FairnessSpec, compute_fairness_slices, save_fairness_record
    from analysis.model_card import CardFormat, ModelCardSpec, build_model_card, parse_fields, render_card
    from analysis.models.registry import ModelRegistry
    from analysis.privacy import MembershipAuditSpec, ModelSource, SlicingOptions, run_membership_audit, save_audit

    build_demo_models(report=lambda message: None)
    model = ModelRegistry().get("credit-mlp")
    data = load_npz(Path(model.dataset(DatasetRole.DATA).path))
    fairness = compute_fairness_slices(
        FairnessSpec(
            model_id="credit-mlp",
            sensitive=("sex", "age_band", "group"),
            intersections=(("sex", "age_band"),),
            thresholds=(0.3, 0.5, 0.7),
            n_bootstrap=1000,
        )
    )
    audit = run_membership_audit(
        MembershipAuditSpec(
            source=ModelSource(
                model_id="credit-mlp",
                members=_split(data, "train", root / "members.npz"),
                nonmembers=_split(data, "test", root / "nonmembers.npz"),
            ),
            attacks=("threshold", "entropy"),
            slicing=SlicingOptions(columns=("sex",)),
        )
    )
    privacy = save_audit(audit)
    fairness_id = save_fairness_record(fairness)
    fields = parse_fields(
        {
            "model_details": {
                "overview": "Predicts the probability that a loan is repaid.",
                "owners": [{"name": "Risk team", "contact": "risk@example.org"}],
                "licenses": [{"identifier": "Apache-2.0"}],
            },
            "considerations": {"limitations": ["Synthetic data"], "out_of_scope_uses": ["Automated rejection"]},
        }
    )
    spec = ModelCardSpec(model_id="credit-mlp", fields=fields, record_ids=(fairness_id, privacy.record_id))

    def median_seconds(action) -> float:
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            action()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    from analysis.model_card import figures

    start = time.perf_counter()
    card = build_model_card(spec)
    print(
        f"first build in this process (imports matplotlib, draws the PNG charts): {time.perf_counter() - start:.2f} s"
    )

    plain = replace(spec, graphics=False)

    def cold_build():  # charts drawn again each time, as in a fresh CLI process after the imports
        figures._CACHE.clear()
        return build_model_card(spec)

    print(
        f"credit-mlp card citing {fairness.record_id} and {privacy.record_id}: "
        f"{len(card.document['quantitative_analysis']['performance_metrics'])} performance metrics"
    )
    build_ms = median_seconds(cold_build) * 1000
    print(f"build_model_card (registry, records, fields, PNG charts, schema validation): {build_ms:.1f} ms")
    cached_ms = median_seconds(lambda: build_model_card(spec)) * 1000
    print(f"build_model_card with the charts cached (the page's reruns): {cached_ms:.1f} ms")
    for card_format in CardFormat:
        if card_format is CardFormat.JSON:  # the CLI draws the PNG charts for JSON cards only
            seconds = median_seconds(lambda: render_card(cold_build(), CardFormat.JSON))
        else:
            seconds = median_seconds(lambda f=card_format: render_card(build_model_card(plain), f))
        size = len(render_card(card, card_format).encode("utf-8"))
        print(f"{card_format.label:<20} build + render {seconds * 1000:7.1f} ms   {size / 1024:8.1f} KiB")
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / card_format.file_name).write_text(render_card(card, card_format), encoding="utf-8")


if __name__ == "__main__":
    main()
