"""The sandbox's user/get, user/info and user/info/batchget, and the deterministic follower generator."""

import pytest
from django.core.management import CommandError, call_command

from conftest import sample_json
from sandbox.generator import followers_generate, openid_for
from sandbox.models import SandboxFollower
from wechat.errors import WeChatError
from wechat.gateway import client_for

CURRENT_INFO_KEYS = {
    "subscribe",
    "openid",
    "language",
    "subscribe_time",
    "remark",
    "groupid",
    "tagid_list",
    "subscribe_scene",
    "qr_scene",
    "qr_scene_str",
}


def test_user_get_pages_10000_by_next_openid_then_ends_with_an_empty_page(account, sandbox_app):
    followers_generate(app=sandbox_app, n=12_345)
    client = client_for(account)

    first = client.user.get_followers()
    assert set(first) == set(sample_json("api/user_get_response.json"))
    assert (first["total"], first["count"], len(first["data"]["openid"])) == (12_345, 10_000, 10_000)
    assert first["data"]["openid"][:2] == [openid_for(account.appid, 0), openid_for(account.appid, 1)]
    assert first["next_openid"] == first["data"]["openid"][-1]

    second = client.user.get_followers(first["next_openid"])
    assert (second["total"], second["count"]) == (12_345, 2_345)
    assert second["data"]["openid"][-1] == openid_for(account.appid, 12_344)

    last = client.user.get_followers(second["next_openid"])
    assert last == {"total": 12_345, "count": 0, "next_openid": ""}


def test_user_get_lists_only_followers_and_survives_an_unfollowed_anchor(account, sandbox_app):
    followers_generate(app=sandbox_app, n=30)
    client = client_for(account)
    SandboxFollower.objects.filter(openid__in=[openid_for(account.appid, i) for i in (3, 4)]).update(subscribed=False)

    page = client.user.get_followers()
    assert page["total"] == page["count"] == 28
    # The anchor unfollowed after the page was read: the next page still starts after it.
    SandboxFollower.objects.filter(openid=openid_for(account.appid, 10)).update(subscribed=False)
    rest = client.user.get_followers(openid_for(account.appid, 10))
    assert rest["data"]["openid"][0] == openid_for(account.appid, 11)


def test_user_get_with_an_unknown_next_openid_is_40003(account, sandbox_app):
    with pytest.raises(WeChatError) as refused:
        client_for(account).user.get_followers("o" + "z" * 27)
    assert refused.value.errcode == 40003


def test_user_info_has_the_current_shape_without_nickname(account, sandbox_app):
    followers_generate(app=sandbox_app, n=5)
    openid = openid_for(account.appid, 2)
    SandboxFollower.objects.filter(openid=openid).update(unionid="", tagids=[2])

    info = client_for(account).user.get(openid)

    assert set(info) == CURRENT_INFO_KEYS
    assert "nickname" not in info and "headimgurl" not in info
    assert info["subscribe"] == 1 and info["openid"] == openid and info["tagid_list"] == [2]


def test_user_info_of_an_unfollowed_user_is_openid_and_unionid_only(account, sandbox_app):
    followers_generate(app=sandbox_app, n=5)
    openid = openid_for(account.appid, 1)
    SandboxFollower.objects.filter(openid=openid).update(subscribed=False, unionid="oUnion")

    info = client_for(account).user.get(openid)

    assert info == {"subscribe": 0, "openid": openid, "unionid": "oUnion"}
    assert set(sample_json("api/user_info_unsubscribed.json")) <= set(info)


def test_batchget_answers_in_the_order_asked(account, sandbox_app):
    followers_generate(app=sandbox_app, n=120)
    openids = [openid_for(account.appid, i) for i in (7, 3, 99)]

    users = client_for(account).user.get_batch([{"openid": o, "lang": "zh_CN"} for o in openids])

    assert [u["openid"] for u in users] == openids
    assert all(set(u) >= CURRENT_INFO_KEYS for u in users)
    assert set(sample_json("api/user_info_batchget_request.json")) == {"user_list"}


def test_batchget_and_user_info_give_the_same_entry_whatever_the_remark(account, sandbox_app):
    followers_generate(app=sandbox_app, n=5)
    openids = [openid_for(account.appid, i) for i in (1, 2)]
    remark = '引号"与\\反斜杠\n换行'
    SandboxFollower.objects.filter(openid=openids[0]).update(remark=remark, tagids=[2, 100], unionid="oUnion")
    SandboxFollower.objects.filter(openid=openids[1]).update(subscribed=False, unionid="")
    client = client_for(account)

    batch = client.user.get_batch([{"openid": o, "lang": "zh_CN"} for o in openids])

    assert batch == [client.user.get(o) for o in openids]
    assert (batch[0]["remark"], batch[0]["tagid_list"], batch[0]["unionid"]) == (remark, [2, 100], "oUnion")
    assert set(batch[0]) == CURRENT_INFO_KEYS | {"unionid"}
    assert batch[1] == {"subscribe": 0, "openid": openids[1]}


@pytest.mark.parametrize("size", [0, 101])
def test_batchget_size_outside_1_to_100_is_40032(account, sandbox_app, size):
    followers_generate(app=sandbox_app, n=101)
    with pytest.raises(WeChatError) as refused:
        client_for(account).user.get_batch([openid_for(account.appid, i) for i in range(size)] or [])
    assert refused.value.errcode == 40032


def test_batchget_with_an_openid_of_another_account_is_40003(account, sandbox_app):
    followers_generate(app=sandbox_app, n=3)
    with pytest.raises(WeChatError) as refused:
        client_for(account).user.get_batch([openid_for(account.appid, 0), openid_for("wx0000000000000000", 0)])
    assert refused.value.errcode == 40003


def test_generated_followers_are_deterministic_and_varied(sandbox_app):
    followers_generate(app=sandbox_app, n=2_000)
    followers_generate(app=sandbox_app, n=2_000)  # again: nothing doubles

    rows = list(SandboxFollower.objects.filter(app=sandbox_app).order_by("id"))
    assert len(rows) == 2_000
    assert [r.openid for r in rows[:3]] == [openid_for(sandbox_app.appid, i) for i in range(3)]
    assert all(len(r.openid) == 28 and r.openid.startswith("o") for r in rows)
    assert openid_for(sandbox_app.appid, 0) != openid_for("wx0000000000000001", 0)
    assert len({r.subscribe_scene for r in rows}) >= 10
    assert len({r.language for r in rows}) == 4
    assert 0.2 < sum(bool(r.unionid) for r in rows) / len(rows) < 0.45
    assert 0.2 < sum(bool(r.tagids) for r in rows) / len(rows) < 0.4
    assert any(r.qr_scene for r in rows) and any(r.qr_scene_str for r in rows)
    assert len({r.subscribe_time for r in rows}) > 1_900


def test_generator_command(sandbox_app, capsys):
    call_command("sandbox_followers", appid=sandbox_app.appid, n=50, start=10)

    assert SandboxFollower.objects.filter(app=sandbox_app).count() == 50
    assert SandboxFollower.objects.filter(openid=openid_for(sandbox_app.appid, 10)).exists()
    assert "50 followers generated" in capsys.readouterr().out
    with pytest.raises(CommandError):
        call_command("sandbox_followers", appid="wx9999999999999999", n=5)


def test_demo_seed_generates_and_syncs_followers_before_the_other_seeders(account, sandbox_app):
    from followers.models import Follower
    from sandbox.generator import DEMO_FOLLOWERS, followers_demo_seed
    from sandbox.seeding import SEEDERS

    assert SEEDERS[0] is followers_demo_seed
    followers_demo_seed(account=account, app=sandbox_app)
    followers_demo_seed(account=account, app=sandbox_app)  # idempotent

    assert SandboxFollower.objects.filter(app=sandbox_app).count() == DEMO_FOLLOWERS
    assert Follower.objects.filter(account=account, subscribed=True).count() == DEMO_FOLLOWERS
