"""The published Microscope: export time and size, and new tab to image against the app, in one run.

    LOUPE_HOME=... python bench/bench_static_site.py --model shapes-cnn --layer conv1 [--tabs 20] [--sessions 20]

1. Exports the whole model (``export_site``, every layer) into a fresh folder: seconds, files and
   bytes, also per 1,000 units, and the same per 1,000 *rendered* units (a layer not rendered yet
   publishes placeholders, which are smaller); then re-exports with nothing changed (the incremental
   floor: it reads the cache and compares hashes, and writes nothing).
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


def export(model: str, out: Path) -> None:
    from analysis.microscope.site_export import SiteExportSpec, export_site

    started = time.perf_counter()
    first = export_site(SiteExportSpec(model_id=model, out=out))
    seconds = time.perf_counter() - started
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
    started = time.perf_counter()
    again = export_site(SiteExportSpec(model_id=model, out=out))
    seconds = time.perf_counter() - started
    print(
        f"re-export, nothing changed: {seconds:.2f} s ({seconds * 1000 / units:.2f} s per 1,000 units), "
        f"{len(again.written)} files written, {again.unchanged} unchanged"
    )
    for name in rendered_layers[-1:]:  # after one layer changed, export just that layer
        started = time.perf_counter()
        one = export_site(SiteExportSpec(model_id=model, out=out, layers=(name,)))
        seconds = time.perf_counter() - started
        print(
            f"re-export of one layer ({name}, {one.units} units): {seconds:.2f} s "
            f"({seconds * 1000 / one.units:.2f} s per 1,000 units), {len(one.written)} files written"
        )


def _units(result) -> dict[str, int]:
    from analysis.models.registry import ModelRegistry

    summary = ModelRegistry().resolve(result.model_id, result.revision).summary
    return {layer.name: layer.units for layer in summary.layers}


def timed(browser, url: str, timeout_ms: int) -> float | None:
    """Seconds to the first visible image in a new tab, or None (an error) when it did not come in time."""
    try:
        return time_to_image(browser, url, timeout_ms=timeout_ms)
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
    args = parser.parse_args()
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
