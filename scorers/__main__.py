"""``python -m scorers``: see ``scorers.cli``."""

import sys

from scorers.cli import main

sys.exit(main())
