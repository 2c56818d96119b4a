"""Names are attacker-controlled: the escaping functions, and generated files that stay data.

Anyone with CREATE on a schema chooses the names covet reads. These tests feed arbitrary
Unicode (newlines, quotes, triple quotes, backslashes, controls, bidirectional overrides,
non-BMP characters) through each escaping context and through the generator on every dialect's
renderer, and require a generated file to be nothing but data. The round trip through real
databases is in test_hostile_names.py.
"""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from covet_core.discovery import discover
from covet_core.errors import ConfigError
from covet_core.escaping import comment, docstring_line, one_line, python_string, shell_word
from covet_core.plugins import Plugins
from covet_core.schema import Column, ColumnType, IgnoredObject, Schema, Table
from covet_core.schema.comparator import SchemaComparator
from covet_core.schema.generator import MigrationGenerator

EXAMPLES = int(os.environ.get("COVET_PROPERTY_EXAMPLES", "150"))

# What an attacker would try first, mixed into arbitrary text.
ATTACKS = [
    "b\n    import os; os.system('id > /tmp/x')  #",
    '"""',
    'x"""\nimport os\n"""',
    "\\",
    "a\\",
    '"',
    "'''",
    "\r\nprint(1)",
    "\x1b[31mred\x1b[0m",
    "\u202egnp.exe",
    "\u2028import os",
    "\x0cform",
    "\x85nel",
    "😀\U0010fffd",
    "\x00nul",
    "`; DROP TABLE users; --",
    "$(id)",
]
hostile = st.one_of(
    st.sampled_from(ATTACKS),
    st.text(min_size=1, max_size=24),
    st.lists(st.sampled_from(ATTACKS) | st.text(max_size=6), min_size=2, max_size=4).map("".join),
)
quick = settings(max_examples=EXAMPLES, deadline=None)


def _no_unprintable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


@quick
@given(st.text())
@example("b\n    import os  #")
@example("\ud800 lone surrogate")
def test_python_string_reads_back_exactly_and_is_one_expression(text: str) -> None:
    literal = python_string(text)
    literal.encode("utf-8")  # a lone surrogate would make the file unwritable
    tree = ast.parse(f"x = {literal}")
    assert len(tree.body) == 1 and isinstance(tree.body[0], ast.Assign)
    assert ast.literal_eval(literal) == text


@quick
@given(st.text())
def test_one_line_and_comment_cannot_leave_their_line(text: str) -> None:
    line = one_line(text)
    assert _no_unprintable(line)
    assert "\n" not in line and "\r" not in line
    tree = ast.parse(f"x = 1  {comment(text)}\ny = 2")
    assert [type(node) for node in tree.body] == [ast.Assign, ast.Assign]


@quick
@given(st.text())
@example('ends with a quote"')
@example('"""')
@example("trailing backslash\\")
def test_docstring_line_reads_back_exactly_inside_a_docstring(text: str) -> None:
    line = docstring_line(text)
    assert _no_unprintable(line)
    assert ast.literal_eval(f'"""{line}"""') == text


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1).filter(lambda t: "\x00" not in t))
@example("users.first name:given name")
@example("it's \x1b[31m\n")
def test_shell_word_is_one_argument_with_the_same_text(text: str) -> None:
    word = shell_word(text)
    assert _no_unprintable(word)
    out = subprocess.run(
        ["bash", "-c", f"printf '%s' {word}"],
        capture_output=True,
        env={"LC_ALL": "C.UTF-8", "PATH": os.environ.get("PATH", "")},
        check=True,
    ).stdout
    assert out == text.encode("utf-8", "surrogateescape")


# -- generated files ---------------------------------------------------------------------------


def assert_only_data(source: str) -> None:
    """The file is a docstring, the Migration import and one class of plain literals."""
    tree = ast.parse(source)
    doc, imported, cls = tree.body  # exactly three top-level statements
    assert isinstance(doc, ast.Expr) and isinstance(doc.value, ast.Constant)
    assert isinstance(imported, ast.ImportFrom)
    assert imported.module == "covet.database.migrations.runner"
    assert [alias.name for alias in imported.names] == ["Migration"]
    assert isinstance(cls, ast.ClassDef) and not cls.decorator_list
    assert [ast.unparse(base) for base in cls.bases] == ["Migration"]
    first, *assignments = cls.body
    assert isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
    targets = []
    for stmt in assignments:
        assert isinstance(stmt, ast.Assign), ast.dump(stmt)
        targets += [t.id for t in stmt.targets if isinstance(t, ast.Name)]
        ast.literal_eval(stmt.value)  # raises on anything but literals
    assert targets == ["dependencies", "forward_sql", "backward_sql"]


def _schemas(
    dropped: str, created: str, column: str, view: str, dialect: str
) -> tuple[Schema, Schema]:
    integer = ColumnType("integer")
    current = Schema.of(
        [Table(dropped, (Column(column, integer), Column("n", ColumnType("text"))))],
        dialect=dialect,
        ignored=[IgnoredObject("view", view)],
    )
    target = Schema.of([Table(created, (Column(column, integer, nullable=False),), (column,))])
    return current, target


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql", "mysql"])
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(names=st.tuples(hostile, hostile, hostile, hostile))
@example(names=("b\n    import os; os.system('id > /tmp/x')  #", 'c"""x', "\\", "v\x1b"))
def test_generated_files_hold_only_data_whatever_the_names(
    dialect_name: str, names: tuple[str, str, str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    dropped, created, column, view = names
    if dropped == created:
        created += "_new"
    plugins = Plugins.load()
    dialect = plugins.dialect(dialect_name)
    current, target = _schemas(dropped, created, column, view, dialect_name)
    diff = SchemaComparator(dialect, detect_renames=False, plugins=plugins).compare(current, target)
    folder = tmp_path_factory.mktemp("gen")
    generator = MigrationGenerator(dialect, folder, plugins=plugins)
    try:
        rendered = generator.render(diff.operations)
        path = generator.generate_from_diff(diff, "hostile")
    except ConfigError as error:
        # Only a name the database cannot hold may be refused, and then in one line.
        assert "\x00" in "".join(names) or len(max(names, key=len).encode()) > 63
        assert "\n" not in str(error)
        assert not list(folder.iterdir())
        return
    assert_only_data(path.read_text(encoding="utf-8"))
    [migration] = discover(folder)
    assert list(migration.forward_sql) == rendered.forward
    assert migration.backward_sql == []  # the drop is irreversible: withheld, in comments
    doc = type(migration).__doc__ or ""
    assert view in doc and dropped in doc  # the docstring reads back the exact names


def test_the_reported_injection_is_a_comment_now(tmp_path: Path) -> None:
    """The issue's table name used to become a Python line of the generated file."""
    name = "b\n    import os; os.system('touch " + str(tmp_path / "pwned") + "')  #"
    plugins = Plugins.load()
    dialect = plugins.dialect("sqlite")
    current, target = _schemas(name, "t", "id", "v", "sqlite")
    diff = SchemaComparator(dialect, plugins=plugins).compare(current, target)
    path = MigrationGenerator(dialect, tmp_path / "m", plugins=plugins).generate_from_diff(
        diff, "g"
    )
    source = path.read_text()
    assert "\n    import os" not in source.replace("\\n    import os", "")
    discover(tmp_path / "m")  # loading it is what `covet migrate status` does
    assert not (tmp_path / "pwned").exists()
    assert_only_data(source)
