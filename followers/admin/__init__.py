from . import followers, operations, sync, tags  # noqa: F401  each module registers its ModelAdmin
