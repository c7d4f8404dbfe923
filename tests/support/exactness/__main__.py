"""`python -m tests.support.exactness cofasync [--now ISO] -- <cofasync arguments>` (see `cli`)."""

import sys

from tests.support.exactness.cli import main

sys.exit(main(sys.argv[1:]))
