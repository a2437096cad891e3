"""A cached Microscope unit page's time to its image in chromium, against a minimal one-image Streamlit page.

    LOUPE_HOME=... python bench/bench_unit_page.py --model M --layer L [--units 0-7] [--loads 20]

Starts, from cold, ``streamlit run app.py`` and a minimal page (``st.image`` of one PNG) on two
loopback ports, then opens each page ``--loads`` times in a new browser context (Debian chromium
via Playwright) and times navigation start -> the main area's first ``<img>`` decoded and visible
(for the unit page: the feature visualization). Prints p50/p95 for both, their ratio (target: unit
p95 within 1.3x of the minimal page's), where the time goes (medians of: websocket open, the script
run's first element and first image received, script run finished, the <img> in the page, the
image shown), the server-side time of the unit page's script (AppTest, same process, warm), and
whether that script imported TensorFlow.
The units must already be rendered and their examples pass done (``python -m analysis worker``).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
MINIMAL = """import streamlit as st
st.image({png!r}, width=256)
"""


def wait_healthy(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"streamlit on port {port} did not start in {timeout:.0f} s")


def start(script: Path, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.gatherUsageStats", "false"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# The first <img> of the page's main area, decoded and laid out (the unit page's first image is its
# feature visualization); also when any <img> first entered the DOM, for the breakdown.
FIRST_IMAGE = """() => {
  const app = document.querySelector("[data-testid='stApp']");  // a static page has none: its first image
  const img = app ? document.querySelector("[data-testid='stMain'] img") : document.querySelector("img");
  return img !== null && img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().width > 0;
}"""
WATCH_DOM = """
window.__loupe = {};
const firstImage = () => document.querySelector("[data-testid='stMain'] img");
new MutationObserver(() => {
  if (!window.__loupe.img && firstImage()) window.__loupe.img = performance.now();
}).observe(document, {subtree: true, childList: true});
"""
MILESTONES = ("ws", "first_delta", "image_delta", "finished", "image_dom", "image")


def _message_kind(payload: bytes) -> str:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    message = ForwardMsg()
    message.ParseFromString(payload)
    kind = message.WhichOneof("type")
    if kind == "delta" and message.delta.WhichOneof("type") == "new_element":
        element = message.delta.new_element
        if element.WhichOneof("type") == "markdown" and "](data:image/" in element.markdown.body:
            return "element:imgs"  # an image in Markdown (the unit page's visualization)
        return "element:" + element.WhichOneof("type")
    return kind or ""


def time_to_image(browser, url: str, timeout_ms: int = 30_000) -> dict[str, float]:
    """Seconds from navigation start to the first decoded, visible <img> in a fresh context, with milestones.

    ``ws``: the websocket opened; ``first_delta``/``image_delta``: the script run's first element
    and first image arrived; ``finished``: the script run ended; ``image_dom``: the <img> entered the
    page; ``image``: it is decoded and visible (the figure the bench reports).
    """
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.add_init_script(WATCH_DOM)
    page = context.new_page()
    marks: dict[str, float] = {}
    origin = time.perf_counter()

    def frame(payload) -> None:
        if not isinstance(payload, bytes):
            return
        kind, at = _message_kind(payload), time.perf_counter() - origin
        if kind.startswith("element:"):
            marks.setdefault("first_delta", at)
        if kind == "element:imgs":
            marks.setdefault("image_delta", at)
        if kind == "script_finished":
            marks.setdefault("finished", at)

    def websocket(ws) -> None:
        marks.setdefault("ws", time.perf_counter() - origin)
        ws.on("framereceived", frame)

    page.on("websocket", websocket)
    try:
        page.goto(url, wait_until="commit", timeout=timeout_ms)
        page.wait_for_function(FIRST_IMAGE, timeout=timeout_ms, polling=25)
        now, dom = page.evaluate("() => [performance.now(), window.__loupe.img]")
        # the page's clock starts at navigation; shift the Python-side marks onto it
        shift = now / 1000 - (time.perf_counter() - origin)
        marks = {k: v + shift for k, v in marks.items()} | {"image": now / 1000, "image_dom": (dom or now) / 1000}
        return marks
    finally:
        context.close()


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def server_side(model: str, layer: str, unit: int, runs: int = 10) -> tuple[float, bool]:
    """Median seconds of the unit page's script in AppTest (warm), and whether TensorFlow got imported."""
    code = f"""
import sys, time, statistics
from streamlit.testing.v1 import AppTest
times = []
for _ in range({runs} + 1):
    at = AppTest.from_file("app.py", default_timeout=120)
    at.run()
    at.switch_page("ui/pages/microscope.py")
    at.query_params.update(model={model!r}, layer={layer!r}, unit="{unit}")
    started = time.perf_counter()
    at.run()
    times.append(time.perf_counter() - started)
    assert not at.exception, at.exception
print(statistics.median(times[1:]), "tensorflow" in sys.modules)
"""
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    if out.returncode:
        raise SystemExit(out.stderr[-2000:])
    seconds, tf = out.stdout.split()[-2:]
    return float(seconds), tf == "True"


def main() -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--layer", required=True)
    parser.add_argument("--units", default="0-7")
    parser.add_argument("--loads", type=int, default=20)
    parser.add_argument("--port", type=int, default=8611)
    args = parser.parse_args()
    low, high = (int(v) for v in args.units.split("-"))
    units = list(range(low, high + 1))
    with tempfile.TemporaryDirectory() as tmp:
        import numpy as np
        from PIL import Image

        png = Path(tmp) / "one.png"
        Image.fromarray((np.random.default_rng(0).uniform(0, 255, (64, 64, 3))).astype(np.uint8)).save(png)
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL.format(png=str(png)))
        servers = [start(ROOT / "app.py", args.port), start(minimal, args.port + 1)]
        try:
            wait_healthy(args.port)
            wait_healthy(args.port + 1)
            unit_marks, minimal_marks, errors = [], [], 0
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                for load in range(args.loads):  # interleaved, so both see the same machine load
                    unit = units[load % len(units)]
                    url = f"http://127.0.0.1:{args.port}/microscope?model={args.model}&layer={args.layer}&unit={unit}"
                    try:
                        unit_marks.append(time_to_image(browser, url))
                    except Exception as error:  # noqa: BLE001  (counted and reported)
                        errors += 1
                        print(f"unit page load {load}: {type(error).__name__}", file=sys.stderr)
                    minimal_marks.append(time_to_image(browser, f"http://127.0.0.1:{args.port + 1}/"))
                browser.close()
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    unit_times, minimal_times = [m["image"] for m in unit_marks], [m["image"] for m in minimal_marks]
    unit_p50, unit_p95 = percentiles(unit_times)
    min_p50, min_p95 = percentiles(minimal_times)
    server_seconds, tensorflow = server_side(args.model, args.layer, units[0])
    print(f"loads: {args.loads} each, {errors} unit-page errors; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
    print(
        f"cached unit page: p50 {unit_p50:.2f} s, p95 {unit_p95:.2f} s to the image (first load {unit_times[0]:.2f} s)"
    )
    print(f"minimal page:     p50 {min_p50:.2f} s, p95 {min_p95:.2f} s to the image")
    print(f"ratio p95: {unit_p95 / min_p95:.2f}x (target <= 1.3x); p50: {unit_p50 / min_p50:.2f}x")
    print("where the time goes (medians, s from navigation start):")
    for name, marks in (("cached unit page", unit_marks), ("minimal page", minimal_marks)):
        medians = {
            k: statistics.median(m[k] for m in marks if k in m) for k in MILESTONES if any(k in m for m in marks)
        }
        print(f"  {name:17}" + "  ".join(f"{k} {v:.2f}" for k, v in medians.items()))
    print(
        f"server side (AppTest script run, warm median): {server_seconds * 1000:.0f} ms; "
        f"TensorFlow imported: {tensorflow}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
