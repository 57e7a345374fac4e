"""`python -m exconnect ...` — the same as the `exconnect` console script."""
import sys

from exconnect.cli import main

sys.exit(main())
