"""Re-exports for ``covet.database.*`` (the guide's import paths)."""
