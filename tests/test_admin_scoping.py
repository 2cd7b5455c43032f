"""Operators see nothing of accounts they do not operate: not in lists, not in filters, not through a forged list edit.

The walks go over every registered ModelAdmin, so a new admin is checked without being named here.
"""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.urls import reverse
from django.utils import timezone

from accounts.models import OfficialAccount
from accounts.tests.factories import OfficialAccountFactory
from followers.models import SyncJob
from followers.tests.factories import FollowerFactory, FollowerOperationFactory, SyncJobFactory, TagFactory
from media_assets.tests.factories import (
    ArticleFactory,
    ArticleImageFactory,
    DraftFactory,
    MaterialFactory,
    MaterialPullJobFactory,
    PublishedArticleFactory,
    PublishJobFactory,
    TemporaryMediaFactory,
)
from menus.tests.factories import MenuFactory, MenuVersionFactory
from messaging.autoreply.tests.factories import AutoReplyRuleFactory
from messaging.inbound.tests.factories import InboundMessageFactory
from messaging.kefu.tests.factories import ConversationFactory, KfAccountFactory, OutboundMessageFactory
from messaging.mass.tests.factories import MassMessageFactory
from messaging.templatemsg.tests.factories import MessageTemplateFactory, TemplateMessageFactory, TemplatePushFactory
from qrcodes.models import QRScan
from qrcodes.tests.factories import QRCampaignFactory, QRScanFactory, QRSceneFactory
from wechat.tests.factories import AccessTokenFactory, ApiCallLogFactory
from wxsite.admin_site import SUPERUSER_APPS

# Everything of account B carries this word, so a leak of any of its rows or its name shows up in the page.
MARK = "Bravo"
B_APPID = "wx0b0b0b0b0b0b0b0b"


def seed_rows(account, mark):
    """One row of every account-scoped model the admin lists, named so the account shows through."""
    tag = TagFactory(account=account, name=f"{mark} tag", wechat_id=100)
    rule = AutoReplyRuleFactory(account=account, name=f"{mark} rule", trigger="keyword", keywords="hi")
    template = MessageTemplateFactory(account=account, template_id=f"{mark}-tpl", title=f"{mark} template")
    push = TemplatePushFactory(account=account, name=f"{mark} push", template=template, scheduled_at=timezone.now())
    now = timezone.now()
    FollowerFactory(account=account, openid=f"o{mark}Follower", remark=f"{mark} remark")
    FollowerOperationFactory(account=account, kind="tag", tag=tag, openids=[f"o{mark}Follower"])
    SyncJobFactory(account=account, status=SyncJob.Status.SUCCEEDED)
    inbound = InboundMessageFactory(
        account=account,
        openid=f"o{mark}Follower",
        msg_type="text",
        content=f"{mark} hello",
        dedupe_key=f"msg:{mark}",
        raw_xml="<xml/>",
        create_time=now,
        matched_rule=rule,
    )
    TemplateMessageFactory(
        account=account,
        template=None,
        openid=f"o{mark}Follower",
        wechat_template_id=f"{mark}-tpl",
        client_msg_id=f"{mark}-1",
        push=push,
    )
    KfAccountFactory(account=account, kf_account=f"{mark.lower()}@gh_0b0b", nickname=f"{mark} kf")
    ConversationFactory(account=account, openid=f"o{mark}Follower", last_message_at=now)
    OutboundMessageFactory(account=account, openid=f"o{mark}Follower", msgtype="text")
    MassMessageFactory(account=account, title=f"{mark} mass", content=f"{mark} news")
    AccessTokenFactory(account=account, kind="access_token")
    ApiCallLogFactory(account=account, endpoint=f"{mark.lower()}/endpoint", method="GET", duration_ms=1)
    cover = MaterialFactory(account=account, kind="image", name=f"{mark} cover.png", media_id=f"{mark}-cover")
    TemporaryMediaFactory(account=account, kind="image", name=f"{mark} temp.png", media_id=f"{mark}-temp")
    MaterialPullJobFactory(account=account)
    draft = DraftFactory(account=account, media_id=f"{mark}-draft")
    ArticleFactory(draft=draft, title=f"{mark} article", cover=cover)
    job = PublishJobFactory(account=account, draft=draft, media_id=f"{mark}-draft")
    PublishedArticleFactory(account=account, job=job, article_id=f"{mark}-article", index=1, title=f"{mark} article")
    ArticleImageFactory(account=account, file=f"articles/{mark}.png", sha256=mark.lower() * 8)
    menu = MenuFactory(account=account, name=f"{mark} menu")
    MenuVersionFactory(account=account, menu=menu, kind="default", number=1)
    campaign = QRCampaignFactory(account=account, name=f"{mark} campaign", scene_prefix=f"{mark.lower()}_")
    scene = QRSceneFactory(account=account, campaign=campaign, name=f"{mark} scene", scene_key=f"{mark.lower()}_1")
    QRScanFactory(account=account, scene=scene, inbound=inbound, openid=f"o{mark}Follower", kind=QRScan.Kind.SCAN, scanned_at=now)


def account_scoped_models():
    return [
        model
        for model in admin.site._registry
        if any(field.is_relation and field.related_model is OfficialAccount for field in model._meta.concrete_fields)
    ]


@pytest.fixture
def operator_of_a(client, db):
    """An operator of account A with every permission there is, while account B (and its rows) exists."""
    mine = OfficialAccountFactory(name="Alpha 甲", appid="wx0a0a0a0a0a0a0a0a", app_secret="a-secret", token="tokA")
    other = OfficialAccountFactory(name=f"{MARK} 乙", appid=B_APPID, app_secret="b-secret", token="tokB")
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
        if model._meta.app_label in SUPERUSER_APPS:  # Celery beat's tables act on every account: superusers only
            assert response.status_code == 403, url
            continue
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
    mine = OfficialAccountFactory(name="Alpha 甲", appid="wx0a0a0a0a0a0a0a0a", app_secret="a-secret", token="tokA")
    other = OfficialAccountFactory(name=f"{MARK} 乙", appid=B_APPID, app_secret="b-secret", token="tokB")
    user = User.objects.create_user("op-a", password="pw-for-tests-1", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["inbound", "autoreply", "kefu", "mass", "templatemsg"])
    )
    mine.operators.add(user)
    client.force_login(user)
    own = AutoReplyRuleFactory(account=mine, name="own", trigger="keyword", keywords="a", priority=1)
    foreign = AutoReplyRuleFactory(account=other, name="foreign", trigger="keyword", keywords="b", priority=1)
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
