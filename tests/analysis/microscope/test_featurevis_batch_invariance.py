"""Same seed, same image, whatever the batch: a unit rendered alone equals the same unit in a batch.

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


DEMO_CHECK = """
import json, sys
import numpy as np
from analysis.microscope.featurevis import RenderSpec, render_units
from cache import ResultStore

def spec(units):
    return RenderSpec(
        model_id="shapes-cnn", layer="conv4", units=units, steps=512, batch=5, restart_dead_units=False
    )

(alone,) = render_units(spec((0,)), store=ResultStore(sys.argv[1] + "/alone"))
batched = render_units(spec((3, 1, 0, 4, 2)), store=ResultStore(sys.argv[1] + "/batched"))[2]
print(json.dumps(int(np.abs(alone.image.astype(int) - batched.image.astype(int)).max())))
"""


@pytest.mark.slow
def test_demo_conv4_unit_alone_renders_exactly_as_in_a_batch_of_5(demo_home, tmp_path):
    """shapes-cnn's conv4 under the AVX2 kernels: a minibatch of 2 drifted 182 grey levels from a batch of 32.

    A lone unit is filled up to the smallest minibatch that uses the large-batch kernels; with
    fewer copies this fails on any x86 machine with AVX2 or more.
    """
    env = {**os.environ, "LOUPE_HOME": str(demo_home), "ONEDNN_MAX_CPU_ISA": "AVX2", "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", DEMO_CHECK, str(tmp_path)],
        cwd=PROJECT_ROOT,
        check=False,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == 0
