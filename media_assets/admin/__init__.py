"""Admin of media_assets, one module per area."""

from . import articles  # noqa: F401
