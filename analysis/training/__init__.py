"""Training code shared by capabilities (tier 2): DP-SGD for Keras 3 and its privacy accounting.

- :mod:`analysis.training.dp_sgd`: :class:`DPSGDModel`, a ``keras.Model`` wrapping any model whose
  training step clips per-example gradients and adds Gaussian noise (Abadi et al. 2016), and
  :func:`poisson_batches`, the sampling the accounting assumes.
- :mod:`analysis.training.accounting`: :func:`compute_dp_guarantee` -> :class:`DPGuarantee`,
  epsilon at delta by Google's ``dp-accounting`` (RDP or PLD accountant, Poisson sampling).

Both privacy (audits that show epsilon) and demo (the privacy variants) import from here.
"""
