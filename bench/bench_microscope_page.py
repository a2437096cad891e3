"""Server-side time to serve a cached unit page (median of 20), and whether TensorFlow was imported.

Uses the real demo model ``shapes-cnn`` in the project's Loupe home (``make run`` or
``python -m analysis models build-demo`` first). Pre-rendering and the dataset-example pass
run in a separate process, so this process only ever reads the cache.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "app.py"
UNIT = {"model": "shapes-cnn", "layer": "conv4", "unit": "5"}
PREPARE = """
from analysis.microscope.featurevis import RenderSpec, render_units
from analysis.microscope.dataset_examples import DatasetExamplesSpec, compute_dataset_examples
render_units(RenderSpec(model_id="shapes-cnn", layer="conv4", units=(5,)))
compute_dataset_examples(DatasetExamplesSpec(model_id="shapes-cnn", layer="conv4"))
"""


def main() -> None:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", PREPARE], check=True, capture_output=True)
    print(f"pre-render + dataset examples (separate process): {time.perf_counter() - started:.1f} s")
    times = []
    for _ in range(21):
        started = time.perf_counter()
        at = AppTest.from_file(str(APP), default_timeout=120).run()
        at.switch_page("ui/pages/microscope.py")
        at.query_params.update(UNIT)
        at.run()
        times.append(time.perf_counter() - started)
        if at.exception or at.error:
            raise SystemExit(f"page failed: {at.exception or at.error}")
    first, rest = times[0], times[1:]
    print(f"cached unit page, first (cold: imports, data set loaded once): {first:.3f} s")
    print(
        f"cached unit page, median of 20 warm: {statistics.median(rest):.3f} s "
        f"(min {min(rest):.3f}, max {max(rest):.3f})"
    )
    print(f"tensorflow imported while serving: {'tensorflow' in sys.modules}")


if __name__ == "__main__":
    main()
