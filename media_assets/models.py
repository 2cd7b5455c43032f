"""Models of media_assets."""
