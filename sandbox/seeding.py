"""Demo data for the sandbox account: ``SEEDERS`` run in this order, each ``fn(*, account, app)`` and idempotent."""

from followers.services.stats import follower_stats_pull
from followers.services.tags import tags_pull_all

from .generator import followers_demo_seed
from .models import SandboxFollower, SandboxTag
from .seeders.articles import sandbox_articles_seed
from .seeders.autoreply import sandbox_rules_seed
from .seeders.kefu import sandbox_seed_kf_account
from .seeders.mass import sandbox_mass_seed
from .seeders.media import sandbox_media_seed
from .seeders.menus import sandbox_menu_seed
from .seeders.qrcodes import sandbox_qrcodes_seed
from .seeders.templatemsg import sandbox_templates_seed


def seed_tags(*, account, app):
    """Demo tags on WeChat's side with a few followers in each, pulled into the back office."""
    for tagid, name in ((100, "VIP客户"), (101, "广东"), (102, "活动报名")):
        SandboxTag.objects.get_or_create(app=app, tagid=tagid, defaults={"name": name})
    untagged = list(SandboxFollower.objects.filter(app=app, subscribed=True, tagids=[]).order_by("id")[:12])
    for i, follower in enumerate(untagged):
        follower.tagids = [100 + i % 3]
    SandboxFollower.objects.bulk_update(untagged, ["tagids"])
    tags_pull_all(account=account)


def seed_follower_stats(*, account, app):
    """A month of the data cube's follower figures, so the dashboard's charts have a history from the start."""
    follower_stats_pull(account=account)


# Followers first: the other seeders tag, message and reply to them.
SEEDERS: list = [
    followers_demo_seed,
    seed_tags,
    sandbox_rules_seed,
    sandbox_menu_seed,  # after the rules: its click keys are theirs
    sandbox_seed_kf_account,
    sandbox_mass_seed,
    sandbox_templates_seed,
    sandbox_qrcodes_seed,
    seed_follower_stats,
    sandbox_media_seed,
    sandbox_articles_seed,
]
