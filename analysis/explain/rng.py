"""shap's explainers draw from numpy's *global* random generator (``np.random.seed`` inside
``Permutation.__init__`` and ``GradientExplainer.shap_values``). Two explanations running in
two threads (a Streamlit server) would interleave draws and lose reproducibility, so every
seeded shap call holds :data:`SHAP_LOCK`; each example gets its own seed, derived from the
spec's seed and the example's row index, so its attributions do not depend on which other
examples were explained with it.
"""

from __future__ import annotations

import threading

import numpy as np

SHAP_LOCK = threading.Lock()


def example_seed(seed: int, index: int) -> int:
    """A 31-bit seed for one example, a pure function of (``seed``, row ``index``)."""
    return int(np.random.SeedSequence([int(seed), int(index)]).generate_state(1)[0] & 0x7FFFFFFF)
