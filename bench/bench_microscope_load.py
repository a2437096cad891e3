"""Many readers at once: N concurrent browser sessions on different cached Microscope unit pages.

    LOUPE_HOME=... python bench/bench_microscope_load.py --model M --layer L [--sessions 20] [--while-rendering L2]

Starts ``streamlit run app.py`` and a minimal one-image Streamlit page (the floor: what Streamlit
and the browser cost on their own) on loopback ports, then opens ``--sessions`` new browser
contexts at the same moment (Debian chromium via Playwright's async API, one browser), each on a
different unit of ``--layer``, and times navigation start -> the first decoded, visible image.
The same burst is sent to the minimal page, so the ratio says how much is Loupe's and how much the
browser's and Streamlit's own on this machine. Each session is bounded (``--timeout``); a session
that does not show its image in time counts as an error. With ``--while-rendering L2`` a niced
``python -m analysis render`` of another layer runs meanwhile (the background worker's workload).
The units must be rendered and their examples pass done (``python -m analysis worker --until-empty``).
Loopback only; every server, browser and render it starts is stopped before it exits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_unit_page import ARGS, CHROMIUM, MINIMAL, ROOT, percentiles, start, wait_healthy

IMAGE_SHOWN = (
    "() => [...document.querySelectorAll('img')].some(i => i.complete && i.naturalWidth > 0"
    " && i.getBoundingClientRect().width > 0)"
)


async def one_session(browser, url: str, timeout_ms: int) -> float | None:
    """Seconds to the first visible image in a fresh context, or None if it did not come in time."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    try:
        await page.goto(url, wait_until="commit", timeout=timeout_ms)
        await page.wait_for_function(IMAGE_SHOWN, timeout=timeout_ms, polling=50)
        return await page.evaluate("() => performance.now()") / 1000
    except Exception as error:  # noqa: BLE001  (a timeout or a failed page: counted as an error)
        print(f"session on {url}: {type(error).__name__}: {str(error).splitlines()[0][:160]}", file=sys.stderr)
        return None
    finally:
        await context.close()


async def burst(urls: list[str], timeout_ms: int) -> list[float | None]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            return await asyncio.gather(*(one_session(browser, url, timeout_ms) for url in urls))
        finally:
            await browser.close()


def report(name: str, times: list[float | None]) -> tuple[float, float] | None:
    shown = [t for t in times if t is not None]
    errors = len(times) - len(shown)
    if not shown:
        print(f"{name:<22} no session showed its image ({errors} errors)")
        return None
    p50, p95 = percentiles(shown)
    print(f"{name:<22} p50 {p50:5.2f} s   p95 {p95:5.2f} s   max {max(shown):5.2f} s   errors {errors}")
    return p50, p95


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--layer", required=True)
    parser.add_argument("--units", type=int, default=None, help="units to spread over (default: --sessions)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds a session may take")
    parser.add_argument("--while-rendering", metavar="LAYER", help="render this layer in the background meanwhile")
    parser.add_argument("--port", type=int, default=8621)
    args = parser.parse_args()
    units = args.units or args.sessions
    timeout_ms = int(args.timeout * 1000)
    with tempfile.TemporaryDirectory() as tmp:
        import numpy as np
        from PIL import Image

        png = Path(tmp) / "one.png"
        Image.fromarray(np.random.default_rng(0).uniform(0, 255, (64, 64, 3)).astype(np.uint8)).save(png)
        minimal = Path(tmp) / "minimal.py"
        minimal.write_text(MINIMAL.format(png=str(png)))
        servers = [start(ROOT / "app.py", args.port), start(minimal, args.port + 1)]
        render = None
        try:
            wait_healthy(args.port)
            wait_healthy(args.port + 1)
            unit_urls = [
                f"http://127.0.0.1:{args.port}/microscope?model={args.model}&layer={args.layer}&unit={i % units}"
                for i in range(args.sessions)
            ]
            asyncio.run(burst(unit_urls[:1], timeout_ms))  # warm the server's caches once, like a running server
            if args.while_rendering:
                render = subprocess.Popen(
                    [sys.executable, "-m", "analysis", "render", "--model", args.model,
                     "--layer", args.while_rendering, "--objective", "neuron"],
                    cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    preexec_fn=lambda: os.nice(10),  # noqa: PLW1509  (the worker's priority)
                )  # fmt: skip
                time.sleep(10)  # let it reach its optimisation loop
            started = time.perf_counter()
            unit_times = asyncio.run(burst(unit_urls, timeout_ms))
            unit_wall = time.perf_counter() - started
            minimal_times = asyncio.run(burst([f"http://127.0.0.1:{args.port + 1}/"] * args.sessions, timeout_ms))
            busy = render is not None and render.poll() is None
        finally:
            if render is not None and render.poll() is None:
                render.terminate()
                render.wait(timeout=30)
            for server in servers:
                server.terminate()
                server.wait(timeout=30)
    print(
        f"{args.sessions} concurrent sessions on {args.model}/{args.layer} ({units} units); "
        f"{os.cpu_count()} CPUs; background render: {'running throughout' if busy else args.while_rendering or 'none'}"
    )
    unit = report("cached unit pages", unit_times)
    floor = report("minimal one-image page", minimal_times)
    print(f"burst wall time (unit pages): {unit_wall:.1f} s")
    if unit and floor:
        print(f"ratio p95 unit/minimal: {unit[1] / floor[1]:.2f}x (target: p95 under 2 s, 0 errors)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
