"""Demo articles for the sandbox account: a two-article draft with a demo image as cover, published, with a comment."""

import logging

from media_assets.models import Draft, Material, PublishedArticle
from media_assets.services import drafts, publish
from wechat.errors import WeChatError

from ..endpoints.comments import comment_write
from ..models import SandboxComment, SandboxFollower

logger = logging.getLogger(__name__)

DEMO_TITLES = ("欢迎关注 Welcome", "本周活动 This week")


def sandbox_articles_seed(*, account, app) -> None:
    """Idempotent: the draft is written and published once; the comment is added once the article is published
    (PUBLISHJOBFINISH comes back after the commit, so possibly on a later run)."""
    if not Draft.objects.filter(account=account, articles__title=DEMO_TITLES[0]).exists():
        _publish_demo_draft(account=account)
    article = PublishedArticle.objects.filter(account=account, title=DEMO_TITLES[0], comments_open=True).first()
    reader = SandboxFollower.objects.filter(app=app, subscribed=True).order_by("id").first()
    if article is not None and reader is not None and not SandboxComment.objects.filter(app=app).exists():
        comment_write(app, article_id=article.article_id, index=0, openid=reader.openid, content="写得真好！")


def _publish_demo_draft(*, account) -> None:
    cover = Material.objects.filter(account=account, kind="image").exclude(media_id="").order_by("id").first()
    if cover is None:
        return
    articles = [
        drafts.ArticleInput(
            title=DEMO_TITLES[0],
            author="wxsite",
            content="<p>这是沙箱里的一篇示例文章。</p><p>This is a demo article in the sandbox.</p>",
            cover=cover,
            show_cover=True,
            need_open_comment=True,
        ),
        drafts.ArticleInput(title=DEMO_TITLES[1], content="<p>本周活动预告。</p>", cover=cover),
    ]
    draft = drafts.draft_save(account=account, articles=articles)
    try:
        drafts.draft_sync(draft_id=draft.pk)
        draft.refresh_from_db()
        job = publish.publish_request(draft=draft)
        publish.publish_submit(job_id=job.pk)
    except WeChatError as exc:
        logger.warning("media_assets.articles_seed_failed", extra={"appid": account.appid, "errcode": exc.errcode})
