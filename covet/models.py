"""``from covet.models import Model, Column, String, ...``: declarative models for schema diffs."""

from covet_core.models import *  # noqa: F403
from covet_core.models import __all__  # noqa: F401
