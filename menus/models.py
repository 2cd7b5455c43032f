"""Models of menus."""
