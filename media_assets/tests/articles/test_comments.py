"""Comments through the services: pulled into the inbox, elected, replied, deleted; WeChat's refusals kept on the row."""

import pytest

from media_assets.models import ArticleComment, PublishedArticle
from media_assets.selectors import comments_inbox
from media_assets.services import comments as comment_services
from media_assets.services import publish as publish_services
from sandbox.endpoints.comments import comment_write
from wechat.errors import WeChatError
from wechat.models import SyncStatus

from .factories import saved_draft


@pytest.fixture
def articles(account, cover, django_capture_on_commit_callbacks):
    """Two published articles; comments open on both."""
    with django_capture_on_commit_callbacks(execute=True):
        draft = saved_draft(account, cover, need_open_comment=True)
    draft.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        publish_services.publish_request(draft=draft)
    return list(PublishedArticle.objects.order_by("index"))


def test_new_comments_are_pulled_into_the_inbox(account, sandbox_app, articles):
    first, second = articles
    comment_write(sandbox_app, article_id=first.article_id, index=0, openid="oA", content="写得好")
    comment_write(sandbox_app, article_id=second.article_id, index=1, openid="oB", content="第二篇的留言")
    assert comment_services.comments_pull_recent() == 2
    inbox = list(comments_inbox(accounts=[account]))
    assert {(c.article_id, c.content) for c in inbox} == {(first.pk, "写得好"), (second.pk, "第二篇的留言")}
    assert comment_services.comments_pull_recent() == 0  # nothing new
    comment_services.comments_mark_seen(comments=ArticleComment.objects.filter(article=first))
    assert [c.content for c in comments_inbox(accounts=[account])] == ["第二篇的留言"]


def test_elect_reply_and_delete(account, sandbox_app, articles):
    first = articles[0]
    comment_write(sandbox_app, article_id=first.article_id, index=0, openid="oA", content="好")
    comment_services.comments_pull(article=first)
    comment = ArticleComment.objects.get()
    comment_services.comment_elect(comment=comment)
    comment_services.comment_reply(comment=comment, content="谢谢支持")
    comment_services.comments_pull(article=first)
    comment.refresh_from_db()
    assert (comment.elected, comment.reply, comment.sync_status, comment.is_new) == (True, "谢谢支持", SyncStatus.SYNCED, False)
    comment_services.comment_delete(comment=comment)
    comment_services.comments_pull(article=first)
    comment.refresh_from_db()
    assert comment.is_deleted


def test_closed_comments_are_88000_and_kept_on_the_article(account, articles):
    first = articles[0]
    comment_services.comments_switch(article=first, open=False)
    first.refresh_from_db()
    assert not first.comments_open
    with pytest.raises(WeChatError) as refused:
        comment_services.comments_pull(article=first)
    assert refused.value.errcode == 88000
    first.refresh_from_db()
    assert first.sync_status == SyncStatus.FAILED
    assert first.last_error == "88000: 该文章未开启留言 / Comments are not open on this article"
