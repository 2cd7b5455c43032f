"""A database built before followers became its own app migrates with every row, content type and grant kept."""

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from followers.models import Follower, FollowerOperation, SyncJob, Tag
from messaging.mass.models import MassMessage
from messaging.templatemsg.models import TemplatePush

BEFORE_MOVE = [("accounts", "0003_account_administrators"), ("messaging", "0003_mass_batch_outcome_unknown")]
MOVED = ("tag", "follower", "followeroperation", "syncjob")
FEATURE_APPS = ("inbound", "autoreply", "kefu", "templatemsg", "mass")


def _migrate(targets, *, unapply=()):
    executor = MigrationExecutor(connection)
    executor.migrate(targets + [(app, None) for app in unapply])
    return executor.loader.project_state(targets).apps


def _leaves():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.fixture
def legacy_database(transactional_db):
    """The schema and content types as they were before the move; the newest state again afterwards."""
    leaves = _leaves()
    later = ["followers", *FEATURE_APPS]  # apps that took over models after this point
    # Apps added since (QR codes, menus…) whose tables point at those apps come and go with them.
    graph = MigrationExecutor(connection).loader.graph
    later += [
        app
        for app, name in leaves
        if app not in ("accounts", "messaging", *later)
        and any(dep[0] in ("followers", *FEATURE_APPS) for dep in graph.forwards_plan((app, name)))
    ]
    others = [leaf for leaf in leaves if leaf[0] not in ("accounts", "messaging", *later)]
    old = _migrate(others + BEFORE_MOVE, unapply=later)
    try:
        yield old
    finally:
        _migrate(leaves)
        ContentType.objects.clear_cache()


def _old_rows(old):
    OfficialAccount = old.get_model("accounts", "OfficialAccount")
    OldTag, OldFollower = old.get_model("accounts", "Tag"), old.get_model("accounts", "Follower")
    OldOperation, OldSyncJob = old.get_model("accounts", "FollowerOperation"), old.get_model("accounts", "SyncJob")
    OldContentType, OldPermission = old.get_model("contenttypes", "ContentType"), old.get_model("auth", "Permission")
    User = old.get_model("auth", "User")

    account = OfficialAccount.objects.create(name="Old", appid="wx00000000000000aa", app_secret="s" * 32, token="tok")
    vip = OldTag.objects.create(account=account, wechat_id=100, name="VIP", follower_count=1, sync_status="synced")
    follower = OldFollower.objects.create(account=account, openid="o-old-1", remark="Ann", subscribe_time=timezone.now())
    follower.tags.add(vip)
    OldFollower.objects.create(account=account, openid="o-old-2", subscribed=False)
    OldOperation.objects.create(account=account, kind="tag", tag=vip, openids=["o-old-1"], sync_status="synced")
    OldSyncJob.objects.create(account=account, status="succeeded", total=2, done=2)
    mass = old.get_model("messaging", "MassMessage").objects.create(account=account, title="To VIPs", tag=vip)
    template = old.get_model("messaging", "MessageTemplate").objects.create(account=account, template_id="T1")
    push = old.get_model("messaging", "TemplatePush").objects.create(
        account=account, name="Push", template=template, tag=vip, scheduled_at=timezone.now()
    )

    follower_type = OldContentType.objects.get_or_create(app_label="accounts", model="follower")[0]
    for model in MOVED:
        OldContentType.objects.get_or_create(app_label="accounts", model=model)
    change = OldPermission.objects.get_or_create(
        content_type=follower_type, codename="change_follower", defaults={"name": "Can change follower"}
    )[0]
    operator = User.objects.create(username="operator", is_staff=True)
    operator.user_permissions.add(change)
    log = old.get_model("admin", "LogEntry").objects.create(
        user=operator, content_type=follower_type, object_id=str(follower.pk), object_repr="Ann", action_flag=CHANGE
    )
    return {"tag": vip.pk, "follower": follower.pk, "mass": mass.pk, "push": push.pk, "user": operator.pk, "log": log.pk}


@pytest.mark.django_db(transaction=True)
def test_rows_content_types_and_grants_survive_the_move_to_followers(legacy_database):
    # Models added to followers later (FollowerDailyStat) keep their content type; the moved ones are under accounts.
    assert not ContentType.objects.filter(app_label="followers", model__in=MOVED).exists()
    ids = _old_rows(legacy_database)

    _migrate(_leaves())
    ContentType.objects.clear_cache()

    assert Tag.objects.get(pk=ids["tag"]).name == "VIP"
    follower = Follower.objects.get(pk=ids["follower"])
    assert (follower.remark, [t.pk for t in follower.tags.all()]) == ("Ann", [ids["tag"]])
    assert Follower.objects.count() == 2
    assert FollowerOperation.objects.get().tag_id == ids["tag"]
    assert SyncJob.objects.get().done == 2
    assert MassMessage.objects.get(pk=ids["mass"]).tag_id == ids["tag"]
    assert TemplatePush.objects.get(pk=ids["push"]).tag_id == ids["tag"]

    for model in MOVED:
        assert ContentType.objects.filter(app_label="followers", model=model).count() == 1
        assert not ContentType.objects.filter(app_label="accounts", model=model).exists()
    assert ContentType.objects.get_for_model(Follower).app_label == "followers"
    assert LogEntry.objects.get(pk=ids["log"]).content_type == ContentType.objects.get_for_model(Follower)
    operator = get_user_model().objects.get(pk=ids["user"])
    assert operator.has_perm("followers.change_follower")
    assert not operator.has_perm("accounts.change_follower")
