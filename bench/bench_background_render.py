"""The whole demo Microscope rendered in the background after a first ``make run``, with the app answering.

    python bench/bench_background_render.py [--home DIR] [--port 8631] [--probe-every 10] [--limit 1800]

What a new user gets: a fresh Loupe home (empty result store and queue; the demo build folder is
shared, so no model is trained), ``python -m analysis models build-demo --if-missing`` (registers
the demo models and queues every unit), then ``python -m analysis serve`` (what ``make run``
starts: the app and one background worker at nice 10). The script then

1. polls the queue every few seconds and prints when shapes-cnn's conv1-conv4 (176 units, the
   issue's "whole demo Microscope") are rendered with their dataset-examples passes, then when
   every job of shapes-cnn (pooling and output layers too) and of every demo model is done;
2. meanwhile opens a page every ``--probe-every`` seconds in a new chromium context (Playwright,
   Debian's chromium), alternating the conv4 layer page (time to its heading) and the unit page of
   a unit the worker has already finished (time to the first decoded, visible image): p50/p95 of
   each while the worker renders. Unit pages of units not yet rendered are never opened (a
   visitor's unit would jump the queue and change what is measured).

The load average is printed at the start and end; the worker and app share the 2 cores with the
browser. ``--limit`` bounds the run; everything started is stopped before it exits.
"""

from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_unit_page import ARGS, CHROMIUM, ROOT, percentiles, wait_healthy

FIRST_LAYERS = ("conv1", "conv2", "conv3", "conv4")
IMAGE_SHOWN = (
    "() => [...document.querySelectorAll('img')].some(i => i.complete && i.naturalWidth > 0"
    " && i.getBoundingClientRect().width > 0)"
)
HEADING_SHOWN = "() => [...document.querySelectorAll('h1,h2,h3')].some(h => /conv4/.test(h.textContent))"


def job_counts(database: Path, revision: str) -> dict[tuple[str, str, str], int]:
    """(layer, kind, state) -> jobs, read straight from the queue's SQLite file."""
    with sqlite3.connect(database, timeout=30) as connection:
        rows = connection.execute(
            "SELECT layer, kind, state, COUNT(*) FROM jobs WHERE revision=? GROUP BY layer, kind, state", (revision,)
        ).fetchall()
    return {(layer, kind, state): n for layer, kind, state, n in rows}


def pending(counts: dict[tuple[str, str, str], int], layers: tuple[str, ...] | None = None) -> int:
    return sum(
        n
        for (layer, _, state), n in counts.items()
        if state in ("queued", "running") and (layers is None or layer in layers)
    )


def done_units(database: Path, revision: str, layer: str) -> list[int]:
    with sqlite3.connect(database, timeout=30) as connection:
        rows = connection.execute(
            "SELECT unit FROM jobs WHERE revision=? AND layer=? AND kind='render' AND state='done'", (revision, layer)
        ).fetchall()
    return sorted(unit for (unit,) in rows)


def examples_done(database: Path, revision: str, layer: str) -> bool:
    with sqlite3.connect(database, timeout=30) as connection:
        (n,) = connection.execute(
            "SELECT COUNT(*) FROM jobs WHERE revision=? AND layer=? AND kind='examples' AND state='done'",
            (revision, layer),
        ).fetchone()
    return n > 0


def probe(browser, url: str, condition: str, timeout_ms: int = 30_000) -> float | None:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    try:
        page.goto(url, wait_until="commit", timeout=timeout_ms)
        page.wait_for_function(condition, timeout=timeout_ms, polling=50)
        return page.evaluate("() => performance.now()") / 1000
    except Exception as error:  # noqa: BLE001  (a timeout: counted as an error)
        print(f"  probe {url}: {type(error).__name__}", file=sys.stderr)
        return None
    finally:
        context.close()


def summary(name: str, times: list[float | None]) -> str:
    shown = [t for t in times if t is not None]
    if not shown:
        return f"{name}: no probe answered ({len(times)} tried)"
    p50, p95 = percentiles(shown)
    return f"{name}: p50 {p50:.2f} s, p95 {p95:.2f} s over {len(shown)} probes, {len(times) - len(shown)} errors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", help="the fresh Loupe home (default: a temporary folder)")
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--probe-every", type=float, default=10.0)
    parser.add_argument("--limit", type=float, default=1800.0, help="seconds before giving up")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-background-") as scratch:
        home = Path(args.home or scratch)
        env = dict(
            os.environ,
            LOUPE_HOME=str(home),
            LOUPE_DEMO_BUILD_DIR=os.environ.get("LOUPE_DEMO_BUILD_DIR") or str(ROOT / ".loupe" / "demo-builds"),
            PYTHONPATH=str(ROOT),
        )
        env.pop("LOUPE_CACHE_DIR", None)
        print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; home {home}")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "analysis", "models", "build-demo", "--if-missing"],
            cwd=ROOT, env=env, check=True, capture_output=True,
        )  # fmt: skip
        registered = time.perf_counter() - started
        os.environ["LOUPE_HOME"] = str(home)
        sys.path.insert(0, str(ROOT))
        from analysis.models.registry import ModelRegistry

        registry = ModelRegistry(home)
        revisions = {model_id: registry.get(model_id).current.revision for model_id in registry.ids()}
        revision = revisions["shapes-cnn"]
        database = home / "precompute.sqlite3"
        print(f"registered and queued in {registered:.1f} s; serving and rendering")
        serve = subprocess.Popen(
            [sys.executable, "-m", "analysis", "serve", "--port", str(args.port), "--",
             "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        layer_times: list[float | None] = []
        unit_times: list[float | None] = []
        marks: dict[str, float] = {}
        try:
            wait_healthy(args.port)
            serve_started = time.perf_counter()
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                next_probe, turn = 0.0, 0
                while time.perf_counter() - serve_started < args.limit:
                    elapsed = time.perf_counter() - serve_started
                    counts = job_counts(database, revision)
                    if "first" not in marks and counts and not pending(counts, FIRST_LAYERS):
                        marks["first"] = elapsed
                        print(f"[{elapsed:6.0f} s] conv1-conv4 rendered, examples passes done")
                    if "model" not in marks and counts and not pending(counts):
                        marks["model"] = elapsed
                        print(f"[{elapsed:6.0f} s] every shapes-cnn job done")
                    everything = sum(pending(job_counts(database, r)) for r in revisions.values())
                    if everything == 0:
                        marks["all"] = elapsed
                        print(f"[{elapsed:6.0f} s] every demo model's job done")
                        break
                    if elapsed >= next_probe:
                        next_probe = elapsed + args.probe_every
                        turn += 1
                        ready = [
                            (layer, unit)
                            for layer in FIRST_LAYERS
                            if examples_done(database, revision, layer)
                            for unit in done_units(database, revision, layer)
                        ]
                        base = f"http://127.0.0.1:{args.port}/microscope?model=shapes-cnn"
                        if turn % 2 and ready:
                            layer, unit = ready[(turn // 2) % len(ready)]
                            unit_times.append(probe(browser, f"{base}&layer={layer}&unit={unit}", IMAGE_SHOWN))
                        else:
                            layer_times.append(probe(browser, f"{base}&layer=conv4", HEADING_SHOWN))
                    time.sleep(2)
                browser.close()
        finally:
            os.killpg(serve.pid, signal.SIGTERM)
            serve.wait(timeout=60)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")
    for key, name in (("first", "conv1-conv4 (176 units)"), ("model", "all of shapes-cnn"), ("all", "all demo models")):
        value = marks.get(key)
        print(f"{name}: " + (f"{value / 60:.1f} min after the app started" if value else "not done within the limit"))
    print(summary("layer page (conv4) to its heading, meanwhile", layer_times))
    print(summary("cached unit page to its image, meanwhile", unit_times))
    return 0


if __name__ == "__main__":
    sys.exit(main())
