"""`python -m queryleaf.server`: the same as `queryleaf serve` (a lighter start)."""

import sys

from queryleaf.server.command import main

sys.exit(main())
