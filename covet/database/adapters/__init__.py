"""Database adapters, one module per dialect plugin (``covet.database.adapters.sqlite``, ...)."""
