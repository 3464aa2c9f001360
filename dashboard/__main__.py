"""`python -m dashboard serve …` is the same as `bunnylogs serve …`."""

import sys

from .cli import main

sys.exit(main())
