"""Same seed, same image, whatever the batch: a unit rendered alone equals the same unit in a batch of 8.

Full 512 steps on a tiny CNN with 16x16 images (a few seconds). The check runs in a fresh
interpreter with oneDNN capped at its AVX2 kernels (``ONEDNN_MAX_CPU_ISA``, read when TensorFlow
starts): that is where a minibatch of 1 used another convolution kernel than larger batches and
images drifted apart by up to 254 grey levels, and it reproduces that on any x86 machine with
AVX2 or more (on others the cap changes nothing and the machine's own kernels are checked).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]

CHECK = """
import json, sys
from pathlib import Path
import numpy as np
from analysis.microscope.featurevis import RenderSpec, render_units
from cache import ResultStore
from tests.analysis.microscope.featurevis_support import register_small_cnn

home = Path(sys.argv[1])
register_small_cnn(home, size=16)
layer, units = sys.argv[2], tuple(range(8))

def spec(chosen):
    return RenderSpec(model_id="small-cnn", layer=layer, units=chosen, steps=512, batch=8, restart_dead_units=False)

batched = render_units(spec(units), store=ResultStore(home / "batched"))
report = {}
for unit in (0, 5):
    (alone,) = render_units(spec((unit,)), store=ResultStore(home / f"alone-{unit}"))
    mine = batched[unit]
    report[unit] = {
        "pixels": int(np.abs(alone.image.astype(int) - mine.image.astype(int)).max()),
        "activation": [alone.activation, mine.activation],
    }
print(json.dumps(report))
"""


@pytest.mark.parametrize("layer", ["conv2"])
def test_a_unit_alone_renders_exactly_as_in_a_batch_of_8(loupe_home, layer):
    env = {**os.environ, "LOUPE_HOME": str(loupe_home), "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", CHECK, str(loupe_home), layer],
        cwd=PROJECT_ROOT,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    for unit, found in report.items():
        assert found["pixels"] == 0, f"unit {unit} of {layer}: {found}"
        alone, batched = found["activation"]
        # The final measurement's reduction over positions may round the last bit differently.
        assert alone == pytest.approx(batched, rel=1e-6), f"unit {unit} of {layer}: {found}"
