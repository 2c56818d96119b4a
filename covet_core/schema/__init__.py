"""The schema model and schema-change operations (pure data; no I/O, no dialect imports)."""

from covet_core.schema.model import Column, ColumnType, Table
from covet_core.schema.operations import CreateTable, DropTable, Operation

__all__ = ["Column", "ColumnType", "CreateTable", "DropTable", "Operation", "Table"]
