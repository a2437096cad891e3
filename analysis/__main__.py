"""``python -m analysis``: Loupe's command line."""

import sys

from analysis.cli.main import main

sys.exit(main())
