from media_assets.models import Material
from messaging.autoreply.models import AutoReplyRule
from sandbox.models import SandboxMaterial
from sandbox.seeders.media import DEMO_IMAGES, PICTURE_RULE, sandbox_media_seed


def test_the_demo_library_is_uploaded_once_with_a_rule_that_sends_a_picture(account, sandbox_app):
    sandbox_media_seed(account=account, app=sandbox_app)
    sandbox_media_seed(account=account, app=sandbox_app)
    assert Material.objects.filter(account=account).count() == len(DEMO_IMAGES) == SandboxMaterial.objects.count()
    assert all(m.usable and m.file and m.url for m in Material.objects.all())
    reply = AutoReplyRule.objects.get(name=PICTURE_RULE).contents.get()
    assert reply.reply_type == "image" and Material.objects.filter(media_id=reply.media_id).exists()
