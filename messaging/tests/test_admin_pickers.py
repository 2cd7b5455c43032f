"""The pickers of the messaging forms search only the operator's accounts: tags, templates and followers."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User

from followers.models import Tag
from followers.tests.factories import FollowerFactory, TagFactory
from messaging.templatemsg.models import MessageTemplate
from messaging.templatemsg.tests.factories import MessageTemplateFactory

MASS = "/en/admin/mass/massmessage/"
PUSHES = "/en/admin/templatemsg/templatepush/"
MESSAGES = "/en/admin/templatemsg/templatemessage/"


@pytest.fixture
def two_accounts(make_account):
    mine, theirs = make_account(), make_account(appid="wx0b0b0b0b0b0b0b0b")
    for account, mark in ((mine, "Alpha"), (theirs, "Bravo")):
        TagFactory(account=account, name=f"会员 {mark}", wechat_id=100)
        MessageTemplateFactory(
            account=account,
            template_id=f"{mark}-tpl",
            title=f"订单 {mark}",
            content="商品名称：{{thing1.DATA}}",
            keywords=["thing1"],
        )
        FollowerFactory(account=account, openid=f"o{mark}Follower000001", remark=f"会员 {mark}")
    return mine, theirs


@pytest.fixture
def operator(client, two_accounts):
    user = User.objects.create_user("op", is_staff=True)
    codenames = ["massmessage", "templatepush", "templatemessage", "tag", "messagetemplate", "follower"]
    user.user_permissions.add(*Permission.objects.filter(codename__regex=rf"_({'|'.join(codenames)})$"))
    two_accounts[0].operators.add(user)
    client.force_login(user)
    return user


def autocomplete(client, app_label, model_name, field_name, term="") -> list[str]:
    params = {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term}
    response = client.get("/en/admin/autocomplete/", params)
    assert response.status_code == 200
    return [row["text"] for row in response.json()["results"]]


def test_tag_picker_lists_only_the_operators_tags(client, operator):
    assert autocomplete(client, "mass", "massmessage", "tag", "会员") == ["会员 Alpha"]
    assert autocomplete(client, "templatemsg", "templatepush", "tag", "会员") == ["会员 Alpha"]
    assert autocomplete(client, "mass", "massmessage", "tag", "Bravo") == []


def test_template_picker_lists_only_the_operators_templates(client, operator):
    assert autocomplete(client, "templatemsg", "templatepush", "template", "订单") == ["订单 Alpha"]
    assert autocomplete(client, "templatemsg", "templatemessage", "template", "Bravo-tpl") == []


@pytest.mark.parametrize("base", [MASS, PUSHES, MESSAGES])
def test_follower_picker_searches_only_the_operators_followers(client, operator, base):
    response = client.get(f"{base}followers/autocomplete/", {"term": "会员"})
    assert [row["id"] for row in response.json()["results"]] == ["oAlphaFollower000001"]
    response = client.get(f"{base}followers/autocomplete/", {"term": "oBravo"})
    assert response.json()["results"] == []


def test_follower_picker_needs_a_user_who_may_compose(client, two_accounts):
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_massmessage"))
    two_accounts[0].operators.add(user)
    client.force_login(user)
    assert client.get(f"{MASS}followers/autocomplete/", {"term": "o"}).status_code == 403


def test_template_card_is_scoped_too(client, operator, two_accounts):
    mine, theirs = (MessageTemplate.objects.get(account=a) for a in two_accounts)
    card = client.get(f"{PUSHES}template-card/{mine.pk}/").json()
    assert card["keywords"] == [{"name": "thing1", "label": "商品名称"}]
    assert client.get(f"{PUSHES}template-card/{theirs.pk}/").status_code == 404


def test_a_picked_follower_of_another_account_is_refused(client, operator, two_accounts):
    mine = two_accounts[0]
    tag = Tag.objects.get(account=mine)
    data = {
        "account": mine.pk,
        "title": "t",
        "msgtype": "text",
        "content": "你好",
        "audience": "openids",
        "followers": ["oAlphaFollower000001", "oBravoFollower000001"],
        "tag": tag.pk,
    }
    response = client.post(f"{MASS}add/", data)
    assert response.status_code == 200
    assert "followers" in response.context["adminform"].form.errors


def test_picked_followers_are_the_mass_sends_openids(client, operator, two_accounts):
    from messaging.mass.models import MassMessage

    mine = two_accounts[0]
    FollowerFactory(account=mine, openid="oAlphaFollower000002")
    data = {
        "account": mine.pk,
        "title": "t",
        "msgtype": "text",
        "content": "你好",
        "audience": "openids",
        "followers": ["oAlphaFollower000002", "oAlphaFollower000001"],
        "openids_text": "oPastedOpenid0000000003",
    }
    response = client.post(f"{MASS}add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert MassMessage.objects.get().openids == ["oAlphaFollower000002", "oAlphaFollower000001", "oPastedOpenid0000000003"]


def test_followers_of_the_operators_other_account_are_refused(client, operator, two_accounts):
    mine, other = two_accounts
    other.operators.add(operator)  # both accounts are the operator's: the picker offers both
    data = {
        "account": mine.pk,
        "title": "t",
        "msgtype": "text",
        "content": "你好",
        "audience": "openids",
        "followers": ["oAlphaFollower000001", "oBravoFollower000001"],
    }
    response = client.post(f"{MASS}add/", data)
    assert response.status_code == 200
    assert "belong to another account: oBravoFollower000001" in response.context["adminform"].form.errors["followers"][0]
