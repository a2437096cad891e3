"""``python -m analysis serve``: the app and its background worker(s), started and stopped together.

    python -m analysis serve [--port 8501] [--address 127.0.0.1] [--workers 1] [--engine local|ray]
        [-- more streamlit options]

``make run`` uses it. The workers (``python -m analysis worker``) run at a lower CPU priority
(nice 10), so the app keeps answering pages while they render. Ctrl-C or SIGTERM stops all of
them; a worker gives its job in hand back to the queue. When the app exits, the workers are
stopped; a worker that crashes is reported and the app keeps running.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

WORKER_NICENESS = 10


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    serve = subparsers.add_parser("serve", help="run the app and the background precompute worker(s) together")
    serve.add_argument("--port", type=int, default=8501)
    serve.add_argument("--address", default="127.0.0.1", help="the app's address (0.0.0.0: every interface)")
    serve.add_argument("--workers", type=int, default=1, help="background workers on this machine (default 1; 0: none)")
    serve.add_argument("--engine", choices=("local", "ray"), default="local", help="the workers' render engine")
    serve.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="after --: more 'streamlit run' options")
    serve.set_defaults(handler=run_serve)


def _lower_priority() -> None:
    os.nice(WORKER_NICENESS)


def run_serve(args: argparse.Namespace) -> int:
    from analysis.paths import PROJECT_ROOT

    extra = [a for a in args.streamlit_args if a != "--"]
    app_command = [
        sys.executable, "-m", "streamlit", "run", str(PROJECT_ROOT / "app.py"),
        "--server.port", str(args.port), "--server.address", args.address, *extra,
    ]  # fmt: skip
    worker_command = [sys.executable, "-m", "analysis", "worker", "--engine", args.engine]
    workers = [
        subprocess.Popen(worker_command, cwd=PROJECT_ROOT, preexec_fn=_lower_priority)  # noqa: PLW1509
        for _ in range(max(args.workers, 0))
    ]
    app = subprocess.Popen(app_command, cwd=PROJECT_ROOT)
    children = [app, *workers]

    def forward(signum: int, frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    try:
        while app.poll() is None:
            for worker in workers:
                if worker.poll() not in (None, 0, 130):
                    print(f"serve: a worker exited with status {worker.returncode}", file=sys.stderr)
                    workers.remove(worker)
            time.sleep(0.5)
    finally:
        forward(signal.SIGTERM, None)
        deadline = time.monotonic() + 20
        for child in children:
            try:
                child.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                child.kill()
    return app.returncode or 0
