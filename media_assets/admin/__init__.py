from . import library  # noqa: F401  each module registers its ModelAdmin
