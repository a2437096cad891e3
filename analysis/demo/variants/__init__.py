"""Privacy variants of one demo task, built on demand (``models build-demo --privacy-variants``).

A subpackage so the demo build's code hash (the top-level ``analysis/demo/*.py`` files) and the
first ``make run`` stay as they are. See :mod:`analysis.demo.variants.build`.
"""
