"""Factories and small real files for media library tests."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.core.files.base import ContentFile
from django.utils import timezone

from accounts.tests.factories import OfficialAccountFactory
from media_assets.models import (
    Article,
    ArticleImage,
    Draft,
    Material,
    MaterialPullJob,
    MediaKind,
    PublishedArticle,
    PublishJob,
    TemporaryMedia,
)
from sandbox import images
from wechat.models import SyncStatus


def upload(name: str = "photo.png", content: bytes | None = None) -> ContentFile:
    return ContentFile(images.png() if content is None else content, name=name)


class MaterialFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Material

    kind = MediaKind.IMAGE
    name = factory.Sequence(lambda n: f"picture-{n}.png")
    media_id = factory.Sequence(lambda n: f"material-{n:04d}")
    url = factory.Sequence(lambda n: f"http://mmbiz.qpic.cn/mmbiz_png/{n}/0?wx_fmt=png")
    sync_status = SyncStatus.SYNCED
    synced_at = factory.LazyFunction(timezone.now)


class TemporaryMediaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemporaryMedia

    kind = MediaKind.IMAGE
    name = "photo.png"
    file = factory.LazyAttribute(lambda o: ContentFile(images.png(), name=o.name))
    media_id = factory.Sequence(lambda n: f"temporary-{n:04d}")
    uploaded_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=4))
    expires_at = factory.LazyAttribute(lambda o: o.uploaded_at + TemporaryMedia.LIFETIME)
    sync_status = SyncStatus.SYNCED


class MaterialPullJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MaterialPullJob

    account = factory.SubFactory(OfficialAccountFactory)


class DraftFactory(factory.django.DjangoModelFactory):
    """A draft row as stored (tests that save through WeChat use ``articles.factories.saved_draft``)."""

    class Meta:
        model = Draft

    account = factory.SubFactory(OfficialAccountFactory)
    media_id = factory.Sequence(lambda n: f"draft-{n:04d}")


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article

    draft = factory.SubFactory(DraftFactory)
    title = factory.Sequence(lambda n: f"文章 {n}")
    content = "<p>正文</p>"


class PublishJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PublishJob

    draft = factory.SubFactory(DraftFactory)
    account = factory.SelfAttribute("draft.account")
    media_id = factory.SelfAttribute("draft.media_id")


class PublishedArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PublishedArticle

    job = factory.SubFactory(PublishJobFactory)
    account = factory.SelfAttribute("job.account")
    article_id = factory.Sequence(lambda n: f"article-{n:04d}")
    index = 1
    title = factory.Sequence(lambda n: f"已发布 {n}")


class ArticleImageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ArticleImage

    account = factory.SubFactory(OfficialAccountFactory)
    file = factory.Sequence(lambda n: f"articles/image-{n}.png")
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
