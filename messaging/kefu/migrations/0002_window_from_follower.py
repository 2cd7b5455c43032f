"""The 48-hour window has one fact, Follower.last_interaction_at: the conversations' copy is carried over, then dropped."""

import logging

from django.db import migrations
from django.db.models import Q

logger = logging.getLogger(__name__)


def last_interactions_to_followers(apps, schema_editor):
    """Move each follower's last interaction forward to the conversation's where that is newer (never back).

    A conversation without a follower row (a follower not synced yet) gets one, marked unsubscribed until the
    next follower sync says otherwise, so no reply window is lost.
    """
    Conversation = apps.get_model("kefu", "Conversation")
    Follower = apps.get_model("followers", "Follower")
    moved = created = 0
    rows = Conversation.objects.exclude(last_interaction_at__isnull=True).values_list("account_id", "openid", "last_interaction_at")
    for account_id, openid, at in rows.iterator():
        followers = Follower.objects.filter(account_id=account_id, openid=openid)
        if not followers.exists():
            Follower.objects.create(account_id=account_id, openid=openid, subscribed=False, last_interaction_at=at)
            created += 1
            continue
        moved += followers.filter(Q(last_interaction_at__isnull=True) | Q(last_interaction_at__lt=at)).update(
            last_interaction_at=at
        )
    if moved or created:
        logger.info("kefu.window_migrated", extra={"followers_moved": moved, "followers_created": created})


class Migration(migrations.Migration):
    dependencies = [
        ("kefu", "0001_initial"),
        ("followers", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(last_interactions_to_followers, migrations.RunPython.noop),
        migrations.RemoveField(model_name="conversation", name="last_interaction_at"),
    ]
