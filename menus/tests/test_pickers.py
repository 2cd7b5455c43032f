"""The editor's media and article pickers list the account's own library."""

from media_assets.tests.factories import DraftFactory, MaterialFactory, PublishedArticleFactory, PublishJobFactory
from menus import selectors


def _published(account, article_id: str, title: str):
    draft = DraftFactory(account=account, media_id=f"draft-{article_id}")
    job = PublishJobFactory(account=account, draft=draft, media_id=draft.media_id)
    return PublishedArticleFactory(
        account=account, job=job, article_id=article_id, index=1, title=title, url=f"https://mp.weixin.qq.com/s/{article_id}"
    )


def test_media_picker_lists_the_accounts_materials_and_not_anothers(make_account):
    mine, other = make_account(appid="wx0000000000000a01"), make_account(appid="wx0000000000000a02")
    MaterialFactory(account=mine, kind="image", name="海报.png", media_id="MEDIA_MINE")
    MaterialFactory(account=mine, kind="thumb", name="thumb.jpg", media_id="THUMB_MINE")
    MaterialFactory(account=other, kind="image", name="other.png", media_id="MEDIA_OTHER")

    values = [c.value for c in selectors.media_choices(account_id=mine.pk)]

    assert values == ["MEDIA_MINE"]
    assert [c.value for c in selectors.media_choices(account_id=mine.pk, query="海报")] == ["MEDIA_MINE"]


def test_article_picker_lists_published_articles_once_per_article_id(make_account):
    mine, other = make_account(appid="wx0000000000000b01"), make_account(appid="wx0000000000000b02")
    _published(mine, "ARTICLE_1", "春季新品")
    _published(other, "ARTICLE_X", "别人的文章")

    choices = selectors.article_choices(account_id=mine.pk)

    assert [(c.value, c.label) for c in choices] == [("ARTICLE_1", "春季新品 · ARTICLE_1")]
