"""The follower table's indexes: what a synced follower costs them, and that the rare values are still found by index."""

import pytest
from django.db import connection

from followers.models import Follower
from followers.services import sync
from sandbox.generator import followers_generate

pytestmark = pytest.mark.postgres


def _indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Follower._meta.db_table])
        return dict(cursor.fetchall())


def test_a_synced_follower_enters_four_indexes(db):
    # A full sync inserts a million rows that are subscribed, not blacklisted and never interacted: each index they
    # enter is paid a million times. The others are partial, on the rare values.
    indexes = _indexes()
    entered = sorted(name for name, definition in indexes.items() if " WHERE " not in definition)
    columns = sorted(indexes[name].split(" USING btree ")[1] for name in entered)
    assert columns == ["(account_id, openid)", "(account_id, subscribe_scene)", "(id)", "(subscribe_time)"]
    partial = {name: indexes[name].split(" WHERE ")[1] for name in indexes if name not in entered}
    assert partial == {
        "follower_unsubscribed": "(NOT subscribed)",
        "follower_blacklisted": "blacklisted",
        "follower_last_interaction": "(last_interaction_at IS NOT NULL)",
    }


def _plan(queryset) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Follower._meta.db_table}")
    return queryset.explain()


def test_the_rare_values_are_found_by_their_partial_indexes(account, sandbox_app):
    followers_generate(app=sandbox_app, n=5_000)
    sync.follower_sync_all(account=account)
    followers = Follower.objects.filter(account=account)
    followers.filter(openid__in=list(followers.order_by("id").values_list("openid", flat=True)[:3])).update(blacklisted=True)
    followers.filter(pk__in=list(followers.order_by("-id").values_list("pk", flat=True)[:5])).update(subscribed=False)

    assert "follower_blacklisted" in _plan(followers.filter(blacklisted=True))
    assert "follower_unsubscribed" in _plan(followers.filter(subscribed=False))
    assert followers.filter(blacklisted=True).count() == 3
    assert followers.filter(subscribed=False).count() == 5
