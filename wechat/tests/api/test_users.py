import pytest

from conftest import sample_json
from sandbox.endpoints import users as sandbox_users
from sandbox.models import SandboxFollower
from wechat.api import users
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError


def test_user_info_returns_wechats_fields(account, followers):
    (openid,) = followers(1, remark="老客户")
    info = users.user_info(account=account, openid=openid)
    assert info["openid"] == openid and info["subscribe"] == 1 and info["remark"] == "老客户"


def test_an_unknown_openid_is_40003(account):
    with pytest.raises(WeChatError) as refused:
        users.user_info(account=account, openid="oNobody000000000000000000000")
    assert refused.value.errcode == 40003


def test_user_info_batch_sends_the_samples_body(account, followers, received):
    openids = followers(2)
    infos = users.user_info_batch(account=account, openids=openids)
    assert [info["openid"] for info in infos] == openids
    sample = sample_json("api/user_info_batchget_request.json")
    (body,) = received(Endpoint.USER_INFO_BATCHGET)
    assert body == {"user_list": [{**entry, "openid": o} for entry, o in zip(sample["user_list"], openids, strict=True)]}


def test_user_info_batch_refuses_more_than_100_openids_before_calling(account, received):
    with pytest.raises(ValueError, match="at most 100"):
        users.user_info_batch(account=account, openids=[f"o{i}" for i in range(101)])
    assert received(Endpoint.USER_INFO_BATCHGET) == []


def test_followers_iter_pages_through_every_follower(account, followers, monkeypatch, received):
    monkeypatch.setattr(sandbox_users, "PAGE_SIZE", 2)
    openids = followers(5)
    pages = list(users.followers_iter(account=account))
    assert [list(p.openids) for p in pages] == [openids[0:2], openids[2:4], openids[4:5]]
    assert pages[0].total == 5
    assert received(Endpoint.USER_GET) == [
        None,
        {"next_openid": openids[1]},
        {"next_openid": openids[3]},
        {"next_openid": openids[4]},
    ]


def test_followers_page_of_an_account_without_followers_is_empty(account):
    page = users.followers_page(account=account)
    assert page.openids == () and page.next_openid == "" and page.total == 0


def test_user_remark_set_sends_openid_and_remark(account, followers, received):
    (openid,) = followers(1)
    users.user_remark_set(account=account, openid=openid, remark="VIP 客户")
    assert received(Endpoint.USER_REMARK) == [{"openid": openid, "remark": "VIP 客户"}]
    assert SandboxFollower.objects.get(openid=openid).remark == "VIP 客户"


def test_a_remark_of_30_characters_is_refused_before_calling(account, received):
    with pytest.raises(WeChatError) as refused:
        users.user_remark_set(account=account, openid="o1", remark="x" * 30)
    assert refused.value.errcode == 45002
    assert received(Endpoint.USER_REMARK) == []


def test_the_daily_quota_reaches_the_caller(account, followers, fault):
    (openid,) = followers(1)
    fault(Endpoint.USER_INFO, 45009)
    with pytest.raises(WeChatError) as refused:
        users.user_info(account=account, openid=openid)
    assert refused.value.errcode == 45009
