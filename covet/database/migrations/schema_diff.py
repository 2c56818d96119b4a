"""``from covet.database.migrations.schema_diff import SchemaReader, ModelSchemaReader,
SchemaComparator`` (the guide's path)."""

from covet_core.models import ModelSchemaReader
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.diff import SchemaDiff
from covet_core.schema.reader import SchemaReader
from covet_core.schema.renames import RenameCandidate

__all__ = ["ModelSchemaReader", "RenameCandidate", "SchemaComparator", "SchemaDiff", "SchemaReader"]
