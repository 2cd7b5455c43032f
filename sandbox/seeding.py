"""Demo data for the sandbox account. Apps append a seeder: ``fn(*, account, app)``, idempotent."""

SEEDERS: list = []


def seed_tags(*, account, app):
    """Demo tags on WeChat's side with a few followers in each, pulled into the back office."""
    from followers.services.tags import tags_pull_all

    from .models import SandboxFollower, SandboxTag

    for tagid, name in ((100, "VIP客户"), (101, "广东"), (102, "活动报名")):
        SandboxTag.objects.get_or_create(app=app, tagid=tagid, defaults={"name": name})
    untagged = list(SandboxFollower.objects.filter(app=app, subscribed=True, tagids=[]).order_by("id")[:12])
    for i, follower in enumerate(untagged):
        follower.tagids = [100 + i % 3]
    SandboxFollower.objects.bulk_update(untagged, ["tagids"])
    tags_pull_all(account=account)


SEEDERS.append(seed_tags)

# Followers first: the other seeders tag, message and reply to them.
from .generator import followers_demo_seed  # noqa: E402

SEEDERS.insert(0, followers_demo_seed)
