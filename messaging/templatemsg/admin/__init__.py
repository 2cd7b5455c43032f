"""Admin for template messages (模板消息): templates, single messages and group pushes."""

from . import messages, pushes, templates  # noqa: F401  each module registers its ModelAdmin
