"""`python -m pipeline.bench`: see pipeline/bench/__init__.py."""

import sys

from .cli import main

sys.exit(main())
