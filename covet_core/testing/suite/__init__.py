"""The conformance suite: ``from covet_core.testing.suite import *`` in a test module.

Every name exported here is a test; each one skips, naming the capability flag or optional
``Dialect`` field, when the dialect under test declares it cannot apply.
"""

from covet_core.testing.suite.adapter_contract import *  # noqa: F403
from covet_core.testing.suite.adapter_contract import __all__ as _adapter
from covet_core.testing.suite.backup import *  # noqa: F403
from covet_core.testing.suite.backup import __all__ as _backup
from covet_core.testing.suite.data import *  # noqa: F403
from covet_core.testing.suite.data import __all__ as _data
from covet_core.testing.suite.locking import *  # noqa: F403
from covet_core.testing.suite.locking import __all__ as _locking
from covet_core.testing.suite.migrate import *  # noqa: F403
from covet_core.testing.suite.migrate import __all__ as _migrate
from covet_core.testing.suite.schema import *  # noqa: F403
from covet_core.testing.suite.schema import __all__ as _schema

__all__ = [*_adapter, *_backup, *_data, *_locking, *_migrate, *_schema]
