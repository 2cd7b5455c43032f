from media_assets.models import Draft, PublishedArticle, PublishJob
from sandbox.models import SandboxComment
from sandbox.seeders.articles import sandbox_articles_seed
from sandbox.seeders.media import sandbox_media_seed
from sandbox.tests.factories import SandboxFollowerFactory


def test_the_demo_article_is_published_once_with_a_comment(
    account, sandbox_app, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    SandboxFollowerFactory(app=sandbox_app, openid="oDemoReader000000000000001")
    sandbox_media_seed(account=account, app=sandbox_app)
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_articles_seed(account=account, app=sandbox_app)
    with django_capture_on_commit_callbacks(execute=True):
        sandbox_articles_seed(account=account, app=sandbox_app)
    assert Draft.objects.count() == 1
    assert PublishJob.objects.get().status == PublishJob.Status.PUBLISHED
    assert PublishedArticle.objects.filter(account=account).count() == 2
    assert SandboxComment.objects.get().content == "写得真好！"
