"""Media library: temporary media, permanent materials, drafts, publishing and comments (API.md §5)."""
