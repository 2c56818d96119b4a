"""``SchemaReader``: the live schema of a database, read by its dialect's registered reader.

The dialect's reader does the catalog work (a constant number of bulk queries per schema,
never one per table); this façade picks the reader, leaves out covet's own bookkeeping tables
and hands back a ``Schema``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from covet_core.errors import ConfigError
from covet_core.schema.model import Schema

if TYPE_CHECKING:
    from covet_core.adapter import Adapter
    from covet_core.dialect import Dialect
    from covet_core.plugins import Plugins

INTERNAL_PREFIX = "_covet_"


class DialectSchemaReader(Protocol):
    async def read(self, schemas: Sequence[str] | None = None) -> Schema:
        """Read ``schemas`` (``None``: the connection's default schema only)."""
        ...


class SchemaReader:
    """``await SchemaReader(adapter, "postgresql").read_schema()``."""

    def __init__(
        self,
        adapter: Adapter,
        dialect: str | Dialect,
        *,
        schemas: Sequence[str] | None = None,
        plugins: Plugins | Iterable[object] | None = None,
        include_internal: bool = False,
    ) -> None:
        from covet_core.dialect import Dialect

        self._plugins = plugins
        # A dialect given as an object needs no plugin manager: loading one scans every
        # installed distribution's entry points, on each reader.
        self.dialect = dialect if isinstance(dialect, Dialect) else self.plugins.dialect(dialect)
        self.adapter = adapter
        self.schemas = list(schemas) if schemas else None
        self.include_internal = include_internal

    @property
    def plugins(self) -> Plugins:
        from covet_core.plugins import Plugins

        if not isinstance(self._plugins, Plugins):
            self._plugins = Plugins.load(self._plugins or ())
        return self._plugins

    async def read_schema(self) -> Schema:
        factory = self.dialect.schema_reader
        if factory is None:
            raise ConfigError(
                f"dialect {self.dialect.name!r} has no schema reader; "
                "schema diffs are not available for it"
            )
        reader: Any = factory(self.adapter)
        schema: Schema = await reader.read(self.schemas)
        schema.dialect = self.dialect.name
        if not self.include_internal:
            schema.tables = {
                k: t for k, t in schema.tables.items() if not t.name.startswith(INTERNAL_PREFIX)
            }
        return schema
