"""The hand-over from the old "messaging" app to the five feature apps keeps every row, content type and grant."""

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

MOVED = {
    "inbound": ["inboundmessage"],
    "autoreply": ["autoreplyrule", "autoreplycontent", "autoreplyversion"],
    "kefu": ["kfaccount", "conversation", "outboundmessage"],
    "templatemsg": ["messagetemplate", "templatepush", "templatemessage"],
    "mass": ["massmessage", "massbatch", "massmessageevent", "idempotencykey"],
}


# The database as the last release left it: the tables and their state in "messaging", the feature apps not there yet.
BEFORE = [*((label, None) for label in MOVED), ("messaging", "0003_mass_batch_outcome_unknown")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    # One plan for every target: the same migrations unapplied in the same order as one target at a time, with the
    # project state computed once instead of once per target.
    executor.migrate(targets)
    executor = MigrationExecutor(connection)
    # Historical models of the other apps as they are now (content types without "name", auth's latest).
    others = [n for n in executor.loader.graph.leaf_nodes() if n[0] in ("auth", "contenttypes")]
    return executor.loader.project_state([*(t for t in targets if t[1] is not None), *others]).apps


def _rows_at_the_old_state(apps, account_id: int, user_id: int) -> dict:
    """One row in each moved table, written through the models as they were before the move."""
    get = lambda name: apps.get_model("messaging", name)  # noqa: E731
    now = timezone.now()
    rule = get("AutoReplyRule").objects.create(account_id=account_id, name="hello", trigger="keyword", keywords="hi")
    get("AutoReplyContent").objects.create(rule=rule, reply_type="text", text="hello")
    get("AutoReplyVersion").objects.create(account_id=account_id, version="v1")
    inbound = get("InboundMessage").objects.create(
        account_id=account_id,
        openid="oMove1",
        msg_type="text",
        content="hi",
        dedupe_key="k1",
        raw_xml="<xml/>",
        create_time=now,
        matched_rule=rule,
    )
    get("KfAccount").objects.create(account_id=account_id, kf_account="kf1@test", nickname="kf")
    get("Conversation").objects.create(account_id=account_id, openid="oMove1", last_message_at=now)
    get("OutboundMessage").objects.create(
        account_id=account_id, openid="oMove1", payload={"msgtype": "text", "text": {"content": "x"}}
    )
    template = get("MessageTemplate").objects.create(account_id=account_id, template_id="T1", title="t", content="{{a.DATA}}")
    push = get("TemplatePush").objects.create(account_id=account_id, template=template, data={}, scheduled_at=now)
    get("TemplateMessage").objects.create(
        account_id=account_id, template=template, push=push, openid="oMove1", data={}, client_msg_id="c1"
    )
    mass = get("MassMessage").objects.create(account_id=account_id, title="m", msgtype="text", content="x")
    batch = get("MassBatch").objects.create(message=mass, index=0, clientmsgid="cm1", openids=["oMove1", "oMove2"])
    get("MassMessageEvent").objects.create(message=mass, batch=batch, old_status="draft", new_status="scheduled")
    get("IdempotencyKey").objects.create(
        account_id=account_id, user_id=user_id, key="k", endpoint="mass", request_hash="h", status_code=201, response_body={}
    )
    return {"inboundmessage": inbound.pk, "massmessage": mass.pk, "templatepush": push.pk, "autoreplyrule": rule.pk}


@pytest.mark.django_db(transaction=True)
def test_rows_content_types_and_a_user_permission_survive_the_move(account):
    from django.contrib.contenttypes.models import ContentType

    user = User.objects.create_user("operator", password="x")
    old_apps = _migrate(BEFORE)
    ids = _rows_at_the_old_state(old_apps, account.pk, user.pk)
    OldContentType = old_apps.get_model("contenttypes", "ContentType")
    OldPermission = old_apps.get_model("auth", "Permission")
    mass_type = OldContentType.objects.get(app_label="messaging", model="massmessage")
    permission = OldPermission.objects.get(content_type=mass_type, codename="view_massmessage")
    old_apps.get_model("auth", "User").objects.get(pk=user.pk).user_permissions.add(permission)

    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    ContentType.objects.clear_cache()

    from messaging.autoreply.models import AutoReplyRule
    from messaging.inbound.models import InboundMessage
    from messaging.mass.models import MassBatch, MassMessage
    from messaging.templatemsg.models import TemplatePush

    assert InboundMessage.objects.get(pk=ids["inboundmessage"]).matched_rule_id == ids["autoreplyrule"]
    assert AutoReplyRule.objects.get(pk=ids["autoreplyrule"]).contents.count() == 1
    assert MassBatch.objects.get(message_id=ids["massmessage"]).openids == ["oMove1", "oMove2"]
    assert TemplatePush.objects.get(pk=ids["templatepush"]).messages.count() == 1
    for label, models in MOVED.items():
        for model in models:
            assert ContentType.objects.filter(app_label=label, model=model).count() == 1, (label, model)
    assert not ContentType.objects.filter(app_label="messaging").exists()
    assert ContentType.objects.get_for_model(MassMessage).pk == mass_type.pk
    assert User.objects.get(pk=user.pk).has_perm("mass.view_massmessage")
