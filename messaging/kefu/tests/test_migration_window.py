"""The conversations' copy of the last interaction moves into Follower before the column is dropped."""

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from followers.models import Follower

BEFORE = [("kefu", "0001_initial"), ("followers", "0001_initial")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def before_the_window_move(transactional_db):
    leaves = MigrationExecutor(connection).loader.graph.leaf_nodes()
    old = _migrate(BEFORE)
    try:
        yield old
    finally:
        _migrate(leaves)


@pytest.mark.django_db(transaction=True)
def test_last_interactions_move_forward_into_followers(before_the_window_move):
    old = before_the_window_move
    account = old.get_model("accounts", "OfficialAccount").objects.create(
        name="Old", appid="wx00000000000000aa", app_secret="s" * 32, token="tok"
    )
    OldFollower, OldConversation = old.get_model("followers", "Follower"), old.get_model("kefu", "Conversation")
    now = timezone.now().replace(microsecond=0)
    newer, older = now - timedelta(hours=1), now - timedelta(hours=30)
    OldFollower.objects.create(account=account, openid="o-behind", last_interaction_at=older)
    OldFollower.objects.create(account=account, openid="o-ahead", last_interaction_at=newer)
    OldFollower.objects.create(account=account, openid="o-never", last_interaction_at=None)
    for openid, at in [("o-behind", newer), ("o-ahead", older), ("o-never", older), ("o-missing", newer), ("o-none", None)]:
        OldConversation.objects.create(account=account, openid=openid, last_message_at=now, last_interaction_at=at)

    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    last = dict(Follower.objects.values_list("openid", "last_interaction_at"))
    assert last["o-behind"] == newer  # moved forward
    assert last["o-ahead"] == newer  # never moved back
    assert last["o-never"] == older
    # A conversation without a follower row keeps its window on a new row, unsubscribed until the next sync.
    missing = Follower.objects.get(openid="o-missing")
    assert (missing.last_interaction_at, missing.subscribed) == (newer, False)
    assert not Follower.objects.filter(openid="o-none").exists()
