"""Article comments against the sandbox: open/close, list, elect, reply, delete, and 88000 while closed."""

import pytest

from sandbox.endpoints.comments import comment_write
from wechat.api import comments, drafts
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError

from .test_drafts import cover, sample_article  # noqa: F401  (fixture)


@pytest.fixture
def published(account, cover, django_capture_on_commit_callbacks):  # noqa: F811
    """A published two-article item; comments open on the first article only. Returns (article_id, msg_data_id)."""
    media_id = drafts.draft_add(
        account=account, articles=[sample_article(cover, need_open_comment=1), sample_article(cover, title="B")]
    )
    with django_capture_on_commit_callbacks(execute=True):
        submitted = drafts.publish_submit(account=account, media_id=media_id)
    article_id = drafts.publish_status(account=account, publish_id=submitted.publish_id).article_id
    return article_id, submitted.msg_data_id


def test_comments_listed_elected_replied_and_deleted(account, sandbox_app, published, received):
    article_id, msg_data_id = published
    for n in range(3):
        comment_write(sandbox_app, article_id=article_id, index=0, openid=f"oReader{n}", content=f"留言 {n}")
    total, page = comments.comments_page(account=account, msg_data_id=msg_data_id, count=2)
    assert total == 3 and [c.content for c in page] == ["留言 0", "留言 1"]
    assert [c.user_comment_id for c in comments.comments_iter(account=account, msg_data_id=msg_data_id, page_size=2)] == [1, 2, 3]
    assert received(Endpoint.COMMENT_LIST)[0] == {"msg_data_id": int(msg_data_id), "index": 0, "begin": 0, "count": 2, "type": 0}

    comments.comment_elect(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=2)
    comments.comment_reply(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=2, content="谢谢")
    comments.comment_delete(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=3)
    listed = {c.user_comment_id: c for c in comments.comments_iter(account=account, msg_data_id=msg_data_id)}
    assert sorted(listed) == [1, 2]
    assert listed[2].elected and listed[2].reply_content == "谢谢" and listed[2].reply_created_at is not None
    with pytest.raises(WeChatError) as again:
        comments.comment_reply(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=2, content="再谢")
    assert again.value.errcode == 88005
    comments.comment_reply_delete(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=2)
    comments.comment_elect(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=2, elected=False)
    assert not any(c.elected or c.reply_content for c in comments.comments_iter(account=account, msg_data_id=msg_data_id))


def test_comments_not_open_are_88000_until_opened(account, sandbox_app, published):
    article_id, msg_data_id = published
    with pytest.raises(WeChatError) as closed:
        comments.comments_page(account=account, msg_data_id=msg_data_id, index=1)
    assert closed.value.errcode == 88000
    assert "未开启留言" in closed.value.meaning_zh
    comments.comments_open(account=account, msg_data_id=msg_data_id, index=1)
    comment_write(sandbox_app, article_id=article_id, index=1, openid="oReader", content="好")
    assert comments.comments_page(account=account, msg_data_id=msg_data_id, index=1)[0] == 1
    comments.comments_close(account=account, msg_data_id=msg_data_id, index=1)
    with pytest.raises(WeChatError) as closed_again:
        comments.comment_elect(account=account, msg_data_id=msg_data_id, index=1, user_comment_id=1)
    assert closed_again.value.errcode == 88000


def test_an_empty_reply_is_refused_without_a_call(account, published, received):
    _, msg_data_id = published
    with pytest.raises(WeChatError) as refused:
        comments.comment_reply(account=account, msg_data_id=msg_data_id, index=0, user_comment_id=1, content=" ")
    assert refused.value.errcode == 88007 and received(Endpoint.COMMENT_REPLY_ADD) == []


def test_an_unknown_msg_data_id_is_88001(account):
    with pytest.raises(WeChatError) as refused:
        comments.comments_open(account=account, msg_data_id="123", index=0)
    assert refused.value.errcode == 88001
