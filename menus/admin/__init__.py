"""Admin of custom menus: the editor with its phone preview, publish, pull, versions and try-match."""

from .menus import MenuAdmin
from .versions import MenuVersionAdmin

__all__ = ["MenuAdmin", "MenuVersionAdmin"]
