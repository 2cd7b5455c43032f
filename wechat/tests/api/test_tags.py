import pytest

from conftest import sample_json
from sandbox.endpoints import tags as sandbox_tags
from sandbox.models import SandboxCall, SandboxFollower, SandboxTag
from wechat.api import tags
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError


def test_tag_create_sends_the_samples_body_and_returns_the_id(account, received):
    tag_id = tags.tag_create(account=account, name="广东")
    assert received(Endpoint.TAGS_CREATE) == [sample_json("api/tags_create_request.json")]
    assert SandboxTag.objects.get(tagid=tag_id).name == "广东"


def test_a_name_in_use_is_45157(account):
    tags.tag_create(account=account, name="广东")
    with pytest.raises(WeChatError) as refused:
        tags.tag_create(account=account, name="广东")
    assert refused.value.errcode == 45157


def test_tags_list_update_and_delete(account, received):
    tag_id = tags.tag_create(account=account, name="VIP")
    tags.tag_update(account=account, tag_id=tag_id, name="贵宾")
    listed = {t.id: t for t in tags.tags_list(account=account)}
    assert listed[tag_id].name == "贵宾" and listed[tag_id].count == 0
    tags.tag_delete(account=account, tag_id=tag_id)
    assert tag_id not in {t.id for t in tags.tags_list(account=account)}
    assert received(Endpoint.TAGS_UPDATE) == [{"tag": {"id": tag_id, "name": "贵宾"}}]
    assert received(Endpoint.TAGS_DELETE) == [{"tag": {"id": tag_id}}]


def test_reserved_tags_cannot_be_changed(account):
    with pytest.raises(WeChatError) as refused:
        tags.tag_update(account=account, tag_id=2, name="星标")
    assert refused.value.errcode == 45058


def test_members_are_added_listed_and_removed_with_the_samples_body(account, followers, received, monkeypatch):
    monkeypatch.setattr(sandbox_tags, "TAG_PAGE_SIZE", 2)
    tag_id = tags.tag_create(account=account, name="VIP")
    openids = followers(3)
    tags.tag_members_add(account=account, tag_id=tag_id, openids=openids)
    assert list(tags.tag_members_iter(account=account, tag_id=tag_id)) == [openids[:2], openids[2:]]
    assert tags.user_tag_ids(account=account, openid=openids[0]) == [tag_id]
    tags.tag_members_remove(account=account, tag_id=tag_id, openids=openids[:1])
    assert [o for page in tags.tag_members_iter(account=account, tag_id=tag_id) for o in page] == openids[1:]
    sample = sample_json("api/tags_members_batchtagging_request.json")
    assert received(Endpoint.TAGS_BATCHTAGGING) == [{**sample, "tagid": tag_id, "openid_list": openids}]
    assert received(Endpoint.TAG_USERS)[:2] == [{"tagid": tag_id}, {"tagid": tag_id, "next_openid": openids[1]}]
    assert received(Endpoint.USER_TAG_IDS) == [{"openid": openids[0]}]


def test_an_unknown_openid_in_a_batch_is_40003(account, followers):
    tag_id = tags.tag_create(account=account, name="VIP")
    with pytest.raises(WeChatError) as refused:
        tags.tag_members_add(account=account, tag_id=tag_id, openids=[*followers(1), "oNobody000000000000000000000"])
    assert refused.value.errcode == 40003


@pytest.mark.parametrize(
    ("call", "limit"),
    [
        (lambda account, ids: tags.tag_members_add(account=account, tag_id=100, openids=ids), 50),
        (lambda account, ids: tags.tag_members_remove(account=account, tag_id=100, openids=ids), 50),
        (lambda account, ids: tags.blacklist_add(account=account, openids=ids), 20),
        (lambda account, ids: tags.blacklist_remove(account=account, openids=ids), 20),
    ],
)
def test_batches_over_wechats_limit_are_refused_before_calling(account, call, limit):
    with pytest.raises(WeChatError) as refused:
        call(account, [f"o{i}" for i in range(limit + 1)])
    assert refused.value.errcode == 40032 and f"1 to {limit} openids" in refused.value.errmsg
    assert not SandboxCall.objects.filter(api__startswith="cgi-bin/tags/members/").exists()


def test_blacklist_add_iterate_and_remove(account, followers, received):
    openids = followers(3)
    tags.blacklist_add(account=account, openids=openids[:2])
    assert [o for page in tags.blacklist_iter(account=account) for o in page] == openids[:2]
    tags.blacklist_remove(account=account, openids=openids[:1])
    assert list(SandboxFollower.objects.filter(blacklisted=True).values_list("openid", flat=True)) == openids[1:2]
    assert received(Endpoint.BLACKLIST_ADD) == [{"openid_list": openids[:2]}]
    assert received(Endpoint.BLACKLIST_GET)[0] == {}  # no begin_openid: WeChat starts at the beginning


def test_a_rejected_token_is_replaced_and_the_call_retried_once(account, fault, errcodes):
    tags.tags_list(account=account)
    fault(Endpoint.TAGS_GET, 40014)
    tags.tags_list(account=account)
    assert errcodes(Endpoint.TAGS_GET) == [0, 40014, 0]
