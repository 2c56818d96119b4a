"""The Migration base class and its checksum.

A migration file ``YYYY_MM_DD_HHMMSS_<name>.py`` holds exactly one ``Migration`` subclass.
Going up, ``forward_sql`` runs statement by statement and then ``forward(adapter)``; going down,
``backward(adapter)`` runs first and then ``backward_sql`` — the mirror image.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from covet_core.adapter import Adapter

NAME_RE = re.compile(r"^(?P<stamp>\d{4}_\d{2}_\d{2}_\d{6})_(?P<label>[a-z0-9]+(?:_[a-z0-9]+)*)$")
LABEL_RE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
STAMP_FORMAT = "%Y_%m_%d_%H%M%S"
CHECKSUM_VERSION = 1


def parse_name(name: str) -> tuple[datetime, str] | None:
    """``(timestamp, label)`` for a valid migration name, ``None`` otherwise."""
    match = NAME_RE.fullmatch(name)
    if not match:
        return None
    s = match["stamp"]  # YYYY_MM_DD_HHMMSS; datetime() validates it (strptime is 10x slower)
    try:
        stamp = datetime(
            int(s[0:4]), int(s[5:7]), int(s[8:10]), int(s[11:13]), int(s[13:15]), int(s[15:17]),
            tzinfo=UTC,
        )  # fmt: skip
    except ValueError:
        return None
    return stamp, match["label"]


_COMMENT_OR_SPACE = re.compile(r"\s+|--[^\n]*(?:\n|$)|/\*.*?\*/", re.DOTALL)


def is_blank_sql(sql: str) -> bool:
    """True when ``sql`` holds only whitespace and comments (nothing to send to the server)."""
    pos = 0
    while pos < len(sql):
        match = _COMMENT_OR_SPACE.match(sql, pos)
        if not match:
            return False
        pos = match.end()
    return True


_TOKEN = re.compile(
    r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|(?P<space>\s+)|[^'"`\s]+|['"`]""", re.DOTALL
)
_TIGHT = set("(),;=")


def _normalise(sql: str) -> str:
    """Whitespace-insensitive form: runs of whitespace outside quotes become one space, none
    next to ``( ) , ; =``, and a trailing ``;`` is dropped. Quoted text is kept verbatim."""
    out: list[str] = []
    pending_space = False
    for match in _TOKEN.finditer(sql.strip()):
        if match.group("space"):
            pending_space = True
            continue
        token = match.group()
        if pending_space and out and out[-1][-1] not in _TIGHT and token[0] not in _TIGHT:
            out.append(" ")
        pending_space = False
        out.append(token)
    return "".join(out).rstrip(";").rstrip()


class Migration:
    """Base class of every Python migration. Subclass it once per file."""

    dependencies: ClassVar[list[str]] = []
    """Names of migrations that must be applied before this one."""
    forward_sql: ClassVar[list[str]] = []
    """Statements applied going up, one statement per item."""
    backward_sql: ClassVar[list[str]] = []
    """Statements that undo ``forward_sql``, in the order they run."""
    atomic: ClassVar[bool] = True
    """``False`` runs the statements outside a transaction (e.g. ``CREATE INDEX CONCURRENTLY``)."""
    data_steps: ClassVar[list[type]] = []
    """``DataMigration`` subclasses (each with a ``table_name``, optionally ``batch_size``) run
    after the statements going up, batch by batch and resumable; not undone going down."""

    def __init__(self, name: str | None = None, path: Path | None = None) -> None:
        self.name = name or type(self).__name__
        self.path = path
        self._sort_key: tuple[int, ...] | None = None

    async def forward(self, adapter: Adapter) -> None:
        """Steps SQL cannot express; runs after ``forward_sql``, in the same transaction."""

    async def backward(self, adapter: Adapter) -> None:
        """Undoes ``forward``; runs before ``backward_sql``, in the same transaction."""

    # -- derived facts ------------------------------------------------------------------------

    @property
    def has_python_forward(self) -> bool:
        return type(self).forward is not Migration.forward

    @property
    def has_python_backward(self) -> bool:
        return type(self).backward is not Migration.backward

    def statements(self, direction: str) -> list[str]:
        """Statements that reach the server in ``direction`` (comment-only items dropped)."""
        source = self.forward_sql if direction == "up" else self.backward_sql
        return [s for s in source if not is_blank_sql(s)]

    @property
    def sort_key(self) -> tuple[int, ...]:
        """Order among migrations whose dependencies are met: the version, as its tool orders it."""
        if self._sort_key is not None:
            return self._sort_key
        parsed = parse_name(self.name)
        return (int(parsed[0].strftime("%Y%m%d%H%M%S")),) if parsed else ()

    @property
    def atomic_declared(self) -> bool:
        """Whether ``atomic`` was set explicitly (then covet never second-guesses it)."""
        return "atomic" in type(self).__dict__

    @property
    def reversible(self) -> bool:
        # A migration that does nothing (authelia ships empty up/down pairs) undoes trivially.
        does_nothing = not self.statements("up") and not self.has_python_forward
        return does_nothing or bool(self.statements("down")) or self.has_python_backward

    @property
    def timestamp(self) -> datetime | None:
        parsed = parse_name(self.name)
        return parsed[0] if parsed else None

    def checksum(self) -> str:
        return compute_checksum(self)

    def checksum_payload(self) -> dict[str, Any]:
        """What checksum version 1 covers (whitespace-normalised)."""
        cls = type(self)
        return {
            "atomic": bool(self.atomic),
            "forward": [_normalise(s) for s in self.forward_sql],
            "backward": [_normalise(s) for s in self.backward_sql],
            "py_forward": _method_source(cls, "forward"),
            "py_backward": _method_source(cls, "backward"),
            **(
                {
                    "data": [
                        (s.__name__, _method_source(s, "transform_batch")) for s in self.data_steps
                    ]
                }
                if self.data_steps
                else {}
            ),
        }

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


def _method_source(cls: type, attr: str) -> str | None:
    method = getattr(cls, attr)
    if method is getattr(Migration, attr, None):
        return None
    try:
        return _normalise(textwrap.dedent(inspect.getsource(method)))
    except (OSError, TypeError):
        # Source unavailable (e.g. defined in a REPL): the SQL still pins the checksum.
        return None


def compute_checksum(migration: Migration, version: int = CHECKSUM_VERSION) -> str:
    """A versioned digest ``sha256:<version>:<hex>`` of what the migration does.

    Version 1 covers the whitespace-normalised forward and backward SQL, ``atomic``, and the
    source of custom ``forward`` / ``backward`` methods. Reformatting SQL does not change it.
    """
    if version != 1:
        raise ValueError(f"unknown checksum version {version}")
    payload = migration.checksum_payload()
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"sha256:{version}:{digest}"


def checksum_matches(stored: str | None, migration: Migration) -> bool:
    """Compare a stored checksum using the algorithm version it was written with."""
    if not stored:
        return True  # recorded without a checksum (baseline by hand): nothing to verify
    parts = stored.split(":")
    if len(parts) != 3 or parts[0] != "sha256" or not parts[1].isdigit():
        return False
    version = int(parts[1])
    if not 1 <= version <= CHECKSUM_VERSION:
        return False
    return compute_checksum(migration, version) == stored


class SqlMigration(Migration):
    """A migration read from ``.sql`` files (see ``covet_core.sqlfiles`` for the forms).

    ``atomic=None`` means the file did not say: covet decides from the statements, running the
    migration outside a transaction when one of them cannot run inside one.
    """

    def __init__(
        self,
        name: str,
        path: Path,
        *,
        forward: list[str],
        backward: list[str],
        source: tuple[str, str],
        atomic: bool | None = None,
        dependencies: list[str] | None = None,
        sort_key: tuple[int, ...] = (),
        has_down: bool = False,
    ) -> None:
        super().__init__(name, path)
        self.has_down = has_down
        # Instance attributes shadow Migration's class-level defaults for this one migration.
        self.forward_sql = list(forward)  # type: ignore[misc]
        self.backward_sql = list(backward)  # type: ignore[misc]
        self.dependencies = list(dependencies or [])  # type: ignore[misc]
        self.atomic = True if atomic is None else atomic  # type: ignore[misc]
        self._declared = atomic is not None
        self.source = source
        self._sort_key = sort_key

    @property
    def atomic_declared(self) -> bool:
        return self._declared

    @property
    def reversible(self) -> bool:
        # An existing but empty down file or section is its author saying "nothing to undo"
        # (golang-migrate and goose run it as a no-op); only a missing one is irreversible.
        return self.has_down or super().reversible

    def checksum_payload(self) -> dict[str, Any]:
        # Over the files' own text, not the split statements: a better splitter in a later
        # release must not make every applied SQL migration look changed.
        up, down = self.source
        return {
            "kind": "sql",
            "up": _normalise(up),
            "down": _normalise(down),
            "atomic": self._declared and self.atomic,
        }

    def __repr__(self) -> str:
        return f"<SqlMigration {self.name}>"
