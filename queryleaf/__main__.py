"""`python -m queryleaf` runs the CLI."""

from queryleaf.shell.cli import main

raise SystemExit(main())
