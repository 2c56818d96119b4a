"""The import paths of the covet user guide. Re-exports only; the code lives in covet_core
and the dialect plugins."""
