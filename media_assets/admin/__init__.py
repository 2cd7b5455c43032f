"""Admin of media_assets, one module per area; each module registers its ModelAdmin."""

from . import articles, library  # noqa: F401
