"""``python -m covet_core`` runs the CLI (same as the ``covet`` console script)."""

from covet_core.cli import main

main()
