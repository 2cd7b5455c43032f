"""Models of media_assets: the media library (``library``); articles, drafts and publishing (``articles``)."""

from media_assets.models.articles import Article, ArticleComment, ArticleImage, Draft, PublishedArticle, PublishJob
from media_assets.models.library import Material, MaterialPullJob, MediaKind, TemporaryMedia

__all__ = [
    "Article",
    "ArticleComment",
    "ArticleImage",
    "Draft",
    "Material",
    "MaterialPullJob",
    "MediaKind",
    "PublishJob",
    "PublishedArticle",
    "TemporaryMedia",
]
