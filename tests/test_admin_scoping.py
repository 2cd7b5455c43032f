"""Operators see nothing of accounts they do not operate: not in lists, not in filters, not through a forged list edit.

The walks go over every registered ModelAdmin, so a new admin is checked without being named here.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from accounts.models import OfficialAccount
from followers.models import Follower, FollowerOperation, SyncJob, Tag
from messaging.autoreply.models import AutoReplyRule
from messaging.inbound.models import InboundMessage
from messaging.kefu.models import Conversation, KfAccount, OutboundMessage
from messaging.mass.models import MassMessage
from messaging.templatemsg.models import MessageTemplate, TemplateMessage, TemplatePush
from wechat.models import AccessToken, ApiCallLog

# Everything of account B carries this word, so a leak of any of its rows or its name shows up in the page.
MARK = "Bravo"
B_APPID = "wx0b0b0b0b0b0b0b0b"


def seed_rows(account, mark):
    """One row of every account-scoped model the admin lists, named so the account shows through."""
    tag = Tag.objects.create(account=account, name=f"{mark} tag", wechat_id=100)
    rule = AutoReplyRule.objects.create(account=account, name=f"{mark} rule", trigger="keyword", keywords="hi")
    template = MessageTemplate.objects.create(account=account, template_id=f"{mark}-tpl", title=f"{mark} template")
    push = TemplatePush.objects.create(account=account, name=f"{mark} push", template=template, scheduled_at=timezone.now())
    now = timezone.now()
    Follower.objects.create(account=account, openid=f"o{mark}Follower", remark=f"{mark} remark")
    FollowerOperation.objects.create(account=account, kind="tag", tag=tag, openids=[f"o{mark}Follower"])
    SyncJob.objects.create(account=account, status=SyncJob.Status.SUCCEEDED)
    InboundMessage.objects.create(
        account=account,
        openid=f"o{mark}Follower",
        msg_type="text",
        content=f"{mark} hello",
        dedupe_key=f"msg:{mark}",
        raw_xml="<xml/>",
        create_time=now,
        matched_rule=rule,
    )
    TemplateMessage.objects.create(
        account=account, openid=f"o{mark}Follower", wechat_template_id=f"{mark}-tpl", client_msg_id=f"{mark}-1", push=push
    )
    KfAccount.objects.create(account=account, kf_account=f"{mark.lower()}@gh_0b0b", nickname=f"{mark} kf")
    Conversation.objects.create(account=account, openid=f"o{mark}Follower", last_message_at=now)
    OutboundMessage.objects.create(account=account, openid=f"o{mark}Follower", msgtype="text")
    MassMessage.objects.create(account=account, title=f"{mark} mass", content=f"{mark} news")
    AccessToken.objects.create(account=account, kind="access_token")
    ApiCallLog.objects.create(account=account, endpoint=f"{mark.lower()}/endpoint", method="GET", duration_ms=1)
    _seed_qr_rows(account, mark, tag=tag, rule=rule)


def _seed_qr_rows(account, mark, *, tag, rule):
    from qrcodes.models import QRCampaign, QRScan, QRScene

    campaign = QRCampaign.objects.create(account=account, name=f"{mark} campaign", scene_prefix=f"{mark}_", reply_rule=rule)
    scene = QRScene.objects.create(
        account=account, campaign=campaign, name=f"{mark} code", scene_str=f"{mark}_1", scene_key=f"{mark}_1"
    )
    scene.tags.add(tag)
    scan = InboundMessage.objects.create(
        account=account, openid=f"o{mark}Follower", msg_type="event", event="SCAN", event_key=f"{mark}_1",
        dedupe_key=f"event:{mark}", raw_xml="<xml/>", create_time=timezone.now(),
    )  # fmt: skip
    QRScan.objects.create(
        account=account, scene=scene, inbound=scan, openid=f"o{mark}Follower", kind="scan", scanned_at=timezone.now()
    )


def account_scoped_models():
    return [
        model
        for model in admin.site._registry
        if any(field.is_relation and field.related_model is OfficialAccount for field in model._meta.concrete_fields)
    ]


@pytest.fixture
def operator_of_a(client, db):
    """An operator of account A with every permission there is, while account B (and its rows) exists."""
    mine = OfficialAccount.objects.create(name="Alpha 甲", appid="wx0a0a0a0a0a0a0a0a", app_secret="a-secret", token="tokA")
    other = OfficialAccount.objects.create(name=f"{MARK} 乙", appid=B_APPID, app_secret="b-secret", token="tokB")
    seed_rows(mine, "Alpha")
    seed_rows(other, MARK)
    unseeded = [model for model in account_scoped_models() if not model.objects.filter(account=other).exists()]
    assert not unseeded, f"seed_rows needs a row of {unseeded} for account B"
    user = User.objects.create_user("op-a", password="pw-for-tests-1", is_staff=True)
    user.user_permissions.add(*Permission.objects.all())
    mine.operators.add(user)
    client.force_login(user)
    return client


def test_no_changelist_shows_another_accounts_name_appid_or_rows(operator_of_a):
    leaks = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = operator_of_a.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        found = [needle for needle in (MARK, B_APPID) if needle in html]
        if found:
            leaks[url] = found
    assert leaks == {}


# list_editable: a forged formset naming another account's row


def rule_list_edit(*rows, priority):
    data = {
        "form-TOTAL_FORMS": str(len(rows)),
        "form-INITIAL_FORMS": str(len(rows)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for i, rule in enumerate(rows):
        data.update({f"form-{i}-id": str(rule.pk), f"form-{i}-priority": str(priority), f"form-{i}-enabled": "on"})
    return data


@pytest.fixture
def rules_of_a_and_b(client, db):
    mine = OfficialAccount.objects.create(name="Alpha 甲", appid="wx0a0a0a0a0a0a0a0a", app_secret="a-secret", token="tokA")
    other = OfficialAccount.objects.create(name=f"{MARK} 乙", appid=B_APPID, app_secret="b-secret", token="tokB")
    user = User.objects.create_user("op-a", password="pw-for-tests-1", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["inbound", "autoreply", "kefu", "mass", "templatemsg"])
    )
    mine.operators.add(user)
    client.force_login(user)
    own = AutoReplyRule.objects.create(account=mine, name="own", trigger="keyword", keywords="a", priority=1)
    foreign = AutoReplyRule.objects.create(account=other, name="foreign", trigger="keyword", keywords="b", priority=1)
    return client, own, foreign


def test_a_list_edit_naming_another_accounts_row_is_refused_and_changes_nothing(rules_of_a_and_b):
    client, own, foreign = rules_of_a_and_b
    response = client.post("/en/admin/autoreply/autoreplyrule/", rule_list_edit(own, foreign, priority=99))
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.priority, foreign.priority) == (1, 1)
    assert MARK not in response.content.decode()


def test_a_list_edit_of_the_operators_own_rows_still_saves(rules_of_a_and_b):
    client, own, _ = rules_of_a_and_b
    response = client.post("/en/admin/autoreply/autoreplyrule/", rule_list_edit(own, priority=7))
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.priority == 7
