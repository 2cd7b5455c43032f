"""Custom menus (自定义菜单): the menu tree, conditional menus, validation, publish, pull and versions (API.md §6)."""
