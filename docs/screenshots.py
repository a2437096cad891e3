"""Screenshots of the real pages for the README and the docs site (``make screenshots``).

Builds the demo models if they are not registered (``models build-demo --if-missing``, cached
per machine; demo models already registered are used as they are, even from an older build) and
makes sure there is something to show (eight rendered Microscope units, a stored privacy audit
and the memorizing model's card fields, each only if missing). Then starts
``streamlit run app.py`` on 127.0.0.1 with a free port, drives Debian's chromium with Playwright
(never a downloaded browser), waits for each page to finish running, saves 1400 px wide PNGs into
``docs/images/`` (quantised to 256 colours to keep them small) and stops the server.

``LOUPE_HOME`` picks the Loupe home to show (default: the project's ``.loupe/``).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
IMAGES = ROOT / "docs" / "images"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
WIDTH = 1400
MEMORIZER = "shapes-cnn-memorizer"
DEMO_IDS = ("shapes-cnn", MEMORIZER, "credit-mlp")

# (file name, path and query, viewport height in px, text that must be on the finished page)
PAGES = (
    ("home.png", "/", 720, "Registered models"),
    ("microscope-unit.png", "/microscope?model=shapes-cnn&layer=conv2&unit=3", 1000, "conv2"),
    ("privacy-audit.png", "/privacy?audit={audit}", 1100, "Privacy audits"),
    ("fairness.png", "/fairness?model=credit-mlp", 1100, "Fairness slices"),
    ("model-card.png", f"/card?model={MEMORIZER}", 1000, "Model card"),
)


CARD_FIELDS = """\
model_details:
  name: Shapes CNN (memorizing demo)
  overview: A 4-layer CNN trained on 500 drawn-shape images with 30 % random labels until it memorised them.
  owners: [{name: Loupe demo}]
considerations:
  use_cases: [{description: Demonstrating membership-inference audits}]
  out_of_scope_uses: [{description: Classifying shapes; it generalises poorly by design}]
  limitations: [{description: Leaks membership of its training examples}]
"""


def loupe(*args: str, env: dict[str, str]) -> str:
    """Run ``python -m analysis ARGS`` and return its standard output (progress goes to stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "analysis", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, check=True
    )
    return done.stdout.decode()


def prepare(env: dict[str, str]) -> str:
    """Demo models, a rendered layer, a privacy audit and card fields; returns the audit's record id."""
    registered = {model["id"] for model in json.loads(loupe("models", "list", "--json", "-", env=env))["models"]}
    if not set(DEMO_IDS) <= registered:  # any registered demo build will do: the pictures show pages, not weights
        loupe("models", "build-demo", "--if-missing", env=env)
    loupe("render", "--model", "shapes-cnn", "--layer", "conv2", "--units", "0-7", env=env)  # cached: a read
    listed = json.loads(loupe("records", "list", "--kind", "privacy", "--model", MEMORIZER, "--json", "-", env=env))
    if listed["records"]:
        audit = listed["records"][0]["record_id"]
    else:
        audit = json.loads(loupe("privacy", "--model", MEMORIZER, "--json", "-", env=env))["record_id"]
    with tempfile.TemporaryDirectory() as folder:
        card = ["card", "--model", MEMORIZER, "--format", "json", "--out", str(Path(folder) / "card.json")]
        try:  # a card needs an overview: the demo model gets one the first time only, never overwritten
            loupe(*card, env=env)
        except subprocess.CalledProcessError:
            fields = Path(folder) / "fields.yaml"
            fields.write_text(CARD_FIELDS)
            loupe(*card, "--fields", str(fields), env=env)
    return audit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def app_server(env: dict[str, str]) -> Iterator[str]:
    """Base URL of ``streamlit run app.py`` on 127.0.0.1; the server is stopped on exit."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("streamlit did not start") from None
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_finished(page: object, text: str, timeout_s: float = 300) -> None:
    """Wait until the script has run to the end: ``text`` shown, no spinner, no 'Running' status."""
    page.get_by_text(text).first.wait_for(timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    busy = '[data-testid="stStatusWidget"], [data-testid="stSpinner"], [data-testid="stSkeleton"], .stProgress'
    while time.monotonic() < deadline:
        if page.locator(busy).count() == 0:
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 3:  # plotly draws after the script ends
                return
        else:
            quiet_since = None
        time.sleep(0.5)
    raise TimeoutError(f"{page.url} still running after {timeout_s:.0f} s")


def save_small(raw: Path, target: Path) -> None:
    """256-colour PNG: screenshots of a flat UI lose nothing visible and shrink several times."""
    with Image.open(raw) as image:
        image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
    raw.unlink()


def main() -> None:
    from playwright.sync_api import sync_playwright

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    env.setdefault("LOUPE_HOME", str(ROOT / ".loupe"))
    audit = prepare(env)
    IMAGES.mkdir(parents=True, exist_ok=True)
    with app_server(env) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            for name, path, height, text in PAGES:
                page = browser.new_page(viewport={"width": WIDTH, "height": height})
                page.goto(base + path.format(audit=audit))
                wait_until_finished(page, text)
                raw = IMAGES / f".{name}"
                page.screenshot(path=str(raw))
                save_small(raw, IMAGES / name)
                page.close()
                print(f"{IMAGES / name}: {(IMAGES / name).stat().st_size // 1024} KiB", file=sys.stderr)
        finally:
            browser.close()


if __name__ == "__main__":
    main()
