"""The published Microscope: export time and size, and new tab to image against the app, in one run.

    LOUPE_HOME=... python bench/bench_static_site.py --model shapes-cnn --layer conv1 [--tabs 20] [--sessions 20]

1. Exports the whole model (``export_site``, every layer) into a fresh folder: seconds, files and
   bytes, also per 1,000 units, and the same per 1,000 *rendered* units (a layer not rendered yet
   publishes placeholders, which are smaller); then re-exports with nothing changed (the incremental
   floor: the store's index and one ``stat`` per file, nothing read or written), after one layer's
   files changed (one page deleted: that layer is read and rendered again), and, as the reference
   measured in the same run, a full re-plan (every entry read, every page rendered and compared: what
   every re-export cost before the manifest recorded each layer's inputs).
   ``--synthetic-units N`` measures the same on a model built here with five layers of N/5 units,
   each unit's channel rendering written straight into a scratch store (synthetic images, no
   optimisation), for figures at a scale the demo does not reach; it needs no Loupe home.
2. Serves the site with ``python -m http.server`` and starts the app (``streamlit run app.py``), both
   on loopback, warms each once, then opens ``--tabs`` new browser contexts (Debian chromium via
   Playwright) alternately on the static unit page and the same unit in the app, timing navigation
   start -> the first decoded, visible image; p50/p95 of each and their ratio.
3. ``--sessions`` concurrent new tabs on different static unit pages (p95, errors), as
   ``bench_microscope_load.py`` does for the app.

Both browser measurements are repeated on a static page that is one image (same ``http.server``):
the floor the browser itself costs on this machine, measured in the same run.

The units of ``--layer`` must be rendered (``python -m analysis worker --until-empty`` or ``render``).
Every server and browser it starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_microscope_load import burst, report
from bench_unit_page import ARGS, CHROMIUM, ROOT, percentiles, start, time_to_image, wait_healthy

sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def timed_export(model: str, out: Path, layers: tuple[str, ...] = (), **options):
    """One ``export_site`` call (``options``: more ``SiteExportSpec`` fields) and its wall time in seconds."""
    from analysis.microscope.site_export import SiteExportSpec, export_site

    started = time.perf_counter()
    result = export_site(SiteExportSpec(model_id=model, out=out, layers=layers, **options))
    return result, time.perf_counter() - started


def export(model: str, out: Path) -> None:
    first, seconds = timed_export(model, out)
    units = first.units
    pending = sum(len(u) for u in first.pending.values())
    rendered = units - pending
    images = sum(1 for p in out.rglob("*.png"))
    print(
        f"export of {model} rev {first.revision[:12]}: {len(first.layers)} layers, {units} units "
        f"({rendered} rendered, {pending} placeholders): {seconds:.2f} s, {first.files} files "
        f"({images} PNG), {first.bytes / 1e6:.2f} MB"
    )
    print(f"  per 1,000 units: {seconds * 1000 / units:.2f} s, {first.bytes / units * 1000 / 1e6:.1f} MB")
    rendered_layers = [name for name, missing in first.pending.items() if not missing]
    if rendered_layers:
        layer_bytes = sum(
            p.stat().st_size
            for name in rendered_layers
            for p in (out / "models" / model / first.revision[:12] / name).rglob("*")
            if p.is_file()
        )
        layer_units = sum(units for name, units in _units(first).items() if name in rendered_layers)
        print(
            f"  fully rendered layers {', '.join(rendered_layers)}: {layer_bytes / 1e6:.2f} MB for {layer_units} "
            f"units = {layer_bytes / layer_units * 1000 / 1e6:.1f} MB per 1,000 rendered units"
        )
    again, seconds = timed_export(model, out)
    print(
        f"re-export, nothing changed: {seconds:.2f} s ({seconds * 1000 / units:.2f} s per 1,000 units), "
        f"{len(again.written)} files written, {again.unchanged} unchanged"
    )
    for name in rendered_layers[-1:]:  # after one layer changed, export just that layer
        one, seconds = timed_export(model, out, (name,))
        print(
            f"re-export of one layer ({name}, {one.units} units): {seconds:.2f} s "
            f"({seconds * 1000 / one.units:.2f} s per 1,000 units), {len(one.written)} files written"
        )
    incremental(model, out, units, first.revision, max(_units(first).items(), key=lambda item: item[1])[0])


def incremental(model: str, out: Path, units: int, revision: str, changed: str) -> None:
    """Re-export after one layer's files changed (a page deleted), and a full re-plan as the reference."""
    from analysis.microscope import site_export
    from analysis.microscope.site_layers import path_segment

    folder = out / "models" / path_segment(model) / revision[:12] / path_segment(changed)
    (folder / "0.html").unlink()
    after, seconds = timed_export(model, out)
    print(
        f"re-export after one layer's files changed ({changed}): {seconds:.2f} s ({seconds * 1000 / units:.2f} s "
        f"per 1,000 units), {len(after.written)} files written, layers kept unread: {len(after.kept_layers)}"
    )
    real = site_export.template_version
    site_export.template_version = lambda: "reference"  # every layer's inputs differ: all read and rendered
    try:
        full, reference = timed_export(model, out)
    finally:
        site_export.template_version = real
    timed_export(model, out)  # the real inputs again
    again, seconds = timed_export(model, out)
    print(
        f"reference, full re-plan (all read and rendered, {len(full.written)} written): {reference:.2f} s "
        f"({reference * 1000 / units:.2f} s per 1,000 units)\n"
        f"re-export, nothing changed: {seconds:.2f} s ({seconds * 1000 / units:.3f} s per 1,000 units; "
        f"{seconds * 10_000 / units:.2f} s per 10,000), {len(again.written)} written: "
        f"{reference / seconds:.0f}x faster than the full re-plan"
    )


def synthetic(units: int, steps: int = 4) -> None:
    """Five 1x1-conv layers of ``units // 5`` on a 32x32 input, every channel rendering written directly."""
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LOUPE_HOME"] = str(Path(tmp) / "home")
        os.environ.pop("LOUPE_CACHE_DIR", None)
        import keras
        import numpy as np

        from analysis.microscope.featurevis import RenderSpec
        from analysis.microscope.featurevis.cached import resolve_render, write_rendering
        from analysis.microscope.featurevis.spec import ObjectiveKind, UnitRendering
        from analysis.models.registry import ModelRegistry, RegisterModelSpec
        from analysis.paths import open_result_store

        width = units // 5
        inputs = keras.Input((32, 32, 3), name="image")
        branches = [keras.layers.Conv2D(width, 1, activation="relu", name=f"b{i}")(inputs) for i in range(5)]
        pooled = keras.layers.GlobalAveragePooling2D(name="gap")(keras.layers.Add(name="sum")(branches))
        model = keras.Model(inputs, keras.layers.Dense(2, name="head")(pooled))
        model.save(Path(tmp) / "wide.keras")
        registry = ModelRegistry()
        registry.register(RegisterModelSpec(path=Path(tmp) / "wide.keras", model_id="wide"))
        revision = registry.resolve("wide")
        store = open_result_store()
        rng = np.random.default_rng(0)
        started = time.perf_counter()
        names = tuple(f"b{i}" for i in range(5))
        for name in names:
            spec = RenderSpec(model_id="wide", layer=name, units=tuple(range(width)), steps=steps)
            resolved = resolve_render(spec, registry=registry)
            for unit in range(width):
                image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
                write_rendering(
                    store,
                    UnitRendering(
                        model_id="wide",
                        revision=revision.revision,
                        layer=name,
                        unit=unit,
                        objective=ObjectiveKind.CHANNEL,
                        image=image,
                        activation=1.0,
                        parameters=resolved.identity(unit),
                        cache_key=resolved.key(unit),
                    ),
                )
        print(f"synthetic model: 5 layers of {width} units, renderings stored in {time.perf_counter() - started:.1f} s")
        out = Path(tmp) / "site"
        first, seconds = timed_export("wide", out, names, steps=steps)
        assert not any(first.pending.values()), "the synthetic renderings were not found under the export's keys"
        print(
            f"export of {first.units} units: {seconds:.2f} s, {first.files} files, {first.bytes / 1e6:.1f} MB "
            f"({seconds * 10_000 / first.units:.1f} s per 10,000 units)"
        )
        incremental_synthetic(out, first, names, steps)


def changed_entry(layer: str, steps: int = 4) -> None:
    """Store a new rendering of unit 0 of ``layer`` of the synthetic model (a black square)."""
    import numpy as np

    from analysis.microscope.featurevis import RenderSpec
    from analysis.microscope.featurevis.cached import resolve_render, write_rendering
    from analysis.microscope.featurevis.spec import ObjectiveKind, UnitRendering
    from analysis.paths import open_result_store

    resolved = resolve_render(
        RenderSpec(model_id="wide", layer=layer, units=tuple(range(resolved_units(layer))), steps=steps)
    )
    write_rendering(
        open_result_store(),
        UnitRendering(
            model_id="wide",
            revision=resolved.revision.revision,
            layer=layer,
            unit=0,
            objective=ObjectiveKind.CHANNEL,
            image=np.zeros((32, 32, 3), np.uint8),
            activation=0.5,
            parameters=resolved.identity(0),
            cache_key=resolved.key(0),
        ),
    )


def resolved_units(layer: str) -> int:
    from analysis.models.registry import ModelRegistry

    return ModelRegistry().resolve("wide").summary.layer(layer).units


def incremental_synthetic(out: Path, first, names: tuple[str, ...], steps: int) -> None:
    from analysis.microscope import site_export

    def export_wide() -> tuple[float, object]:
        result, seconds = timed_export("wide", out, names, steps=steps)
        return seconds, result

    per = 10_000 / first.units
    (out / "models" / "wide" / first.revision[:12] / "b2" / "0.html").unlink()
    seconds, after = export_wide()
    print(
        f"re-export after one layer's files changed: {seconds:.2f} s ({seconds * per:.2f} s per 10,000 units), "
        f"{len(after.written)} written, {len(after.kept_layers)} of {len(names)} layers kept unread"
    )
    changed_entry(names[3])  # the store changes: every layer's keys are computed, one layer is read
    seconds, after = export_wide()
    print(
        f"re-export after one unit's rendering changed in the store: {seconds:.2f} s ({seconds * per:.2f} s per "
        f"10,000 units), {len(after.written)} written, {len(after.kept_layers)} of {len(names)} layers kept unread"
    )
    real = site_export.template_version
    site_export.template_version = lambda: "reference"
    try:
        reference, _ = export_wide()
    finally:
        site_export.template_version = real
    export_wide()
    seconds, again = export_wide()
    print(
        f"reference, full re-plan: {reference:.2f} s ({reference * per:.2f} s per 10,000 units)\n"
        f"re-export, nothing changed: {seconds:.2f} s ({seconds * per:.2f} s per 10,000 units), "
        f"{len(again.written)} written: {reference / seconds:.0f}x faster than the full re-plan"
    )


def _units(result) -> dict[str, int]:
    from analysis.models.registry import ModelRegistry

    summary = ModelRegistry().resolve(result.model_id, result.revision).summary
    return {layer.name: layer.units for layer in summary.layers}


def timed(browser, url: str, timeout_ms: int) -> float | None:
    """Seconds to the first visible image in a new tab, or None (an error) when it did not come in time."""
    try:
        return time_to_image(browser, url, timeout_ms=timeout_ms)["image"]  # the marks: seconds to the image shown
    except Exception as error:  # noqa: BLE001  (a timeout or a failed page: counted as an error)
        print(f"tab on {url}: {type(error).__name__}", file=sys.stderr)
        return None


def line(name: str, times: list[float | None]) -> float | None:
    shown = [t for t in times if t is not None]
    if not shown:
        print(f"  {name:<26} no tab showed its image ({len(times)} errors)")
        return None
    p50, p95 = percentiles(shown)
    print(f"  {name:<26} p50 {p50 * 1000:6.0f} ms   p95 {p95 * 1000:6.0f} ms   errors {len(times) - len(shown)}")
    return p95


def serve(folder: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(folder)]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="shapes-cnn")
    parser.add_argument("--layer", default="conv1", help="a rendered layer: its units are opened")
    parser.add_argument("--tabs", type=int, default=20, help="new tabs per side (static, app), one at a time")
    parser.add_argument("--sessions", type=int, default=20, help="concurrent tabs on the static site")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--export-only", action="store_true", help="only the export figures (no browser)")
    parser.add_argument("--synthetic-units", type=int, default=0, help="only the export figures on a built model")
    args = parser.parse_args()
    if args.synthetic_units:
        synthetic(args.synthetic_units)
        return 0
    from analysis.microscope.site_export import SiteExportSpec, plan_site
    from analysis.models.registry import ModelRegistry

    revision = ModelRegistry().resolve(args.model).short
    units = ModelRegistry().resolve(args.model).summary.layer(args.layer).units
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "site"
        export(args.model, out)
        if args.export_only:
            return 0
        pending = plan_site(SiteExportSpec(model_id=args.model, out=out, layers=(args.layer,))).pending[args.layer]
        if pending:
            print(f"note: {len(pending)} units of {args.layer} are not rendered; their pages show placeholders")
        floor = Path(tmp) / "floor"  # the browser's own cost: a page that is one image, same server
        floor.mkdir()
        (floor / "one.png").write_bytes(next((out / "models").rglob("*.png")).read_bytes())
        (floor / "index.html").write_text('<!doctype html><title>floor</title><img src="one.png" width="256">')
        site_port, app_port, floor_port = free_port(), free_port(), free_port()
        servers = [serve(out, site_port), start(ROOT / "app.py", app_port), serve(floor, floor_port)]
        try:
            wait_healthy(app_port)
            site = f"http://127.0.0.1:{site_port}/models/{args.model}/{revision}/{args.layer}"
            app = f"http://127.0.0.1:{app_port}/microscope?model={args.model}&layer={args.layer}"
            from playwright.sync_api import sync_playwright

            minimal = f"http://127.0.0.1:{floor_port}/index.html"
            static_times, app_times, floor_times = [], [], []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                time_to_image(browser, f"{site}/0.html")  # warm both, like a running server
                time_to_image(browser, f"{app}&unit=0", timeout_ms=120_000)
                for tab in range(args.tabs):
                    unit = tab % units
                    timeout_ms = int(args.timeout * 1000)
                    floor_times.append(timed(browser, minimal, timeout_ms))
                    static_times.append(timed(browser, f"{site}/{unit}.html", timeout_ms))
                    app_times.append(timed(browser, f"{app}&unit={unit}", timeout_ms))
                browser.close()
            load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
            print(f"new tab to image, {args.tabs} tabs each, one at a time ({os.cpu_count()} CPUs, load {load}):")
            line("one-image static page", floor_times)
            static_p95 = line("static unit page", static_times)
            app_p95 = line("app unit page (Streamlit)", app_times)
            if static_p95 and app_p95:
                print(f"  app / static p95: {app_p95 / static_p95:.1f}x (target: static p95 under 300 ms)")
            urls = [f"{site}/{i % units}.html" for i in range(args.sessions)]
            started = time.perf_counter()
            times = asyncio.run(burst(urls, int(args.timeout * 1000)))
            wall = time.perf_counter() - started
            report(f"{args.sessions} concurrent static", times)
            print(f"  burst wall time: {wall:.1f} s")
            report(
                f"{args.sessions} concurrent one-image",
                asyncio.run(burst([minimal] * args.sessions, int(args.timeout * 1000))),
            )
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
