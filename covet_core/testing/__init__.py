"""covet's conformance suite for dialect plugins, and the pytest fixtures it runs on.

A dialect package tests itself with one module::

    # tests/test_covet_suite.py
    from covet_core.testing.suite import *

and ``pytest --covet-url URL`` (or ``COVET_TEST_URL=URL pytest``), where ``URL`` names a
database the dialect's ``provisioner`` can create scratch databases next to. A module may
instead define its own ``covet_url`` fixture. Every behaviour test that applies to the
dialect's declared ``Capabilities`` runs; the others are skipped with the flag that rules
them out.

The pytest plugin (``covet_core.testing.plugin``) is registered through the ``pytest11``
entry point, so installing covet is enough. Its fixtures: ``covet_url``, ``covet_plugins``,
``covet_dialect``, ``covet_runner``, ``covet_database`` (a fresh ``ScratchDatabase`` per
test), ``covet_adapter`` (connected to it) and ``covet_migrations`` (an empty folder).

Projects test their own migrations with ``from covet_core.testing.project import *`` and the
``covet_project`` / ``covet_manager`` / ``covet_migrated_to`` fixtures (docs/testing.md).
"""

from covet_core.testing.support import (
    ScratchDatabase,
    asynctest,
    requires,
    requires_worker,
    write_migration,
)

__all__ = ["ScratchDatabase", "asynctest", "requires", "requires_worker", "write_migration"]
