"""Entry point for `python -m coop`."""

import sys

from coop.cli import main

sys.exit(main())
