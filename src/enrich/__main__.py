"""`python -m enrich`: hand argv to the CLI and exit with its code."""

from enrich.cli import main

raise SystemExit(main())
