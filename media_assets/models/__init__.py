"""Models of media_assets: the media library (``library``); articles, drafts and publishing live beside it."""

from media_assets.models.library import Material, MaterialPullJob, MediaKind, TemporaryMedia

__all__ = ["Material", "MaterialPullJob", "MediaKind", "TemporaryMedia"]
