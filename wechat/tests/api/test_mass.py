import pytest

from conftest import sample_json
from sandbox.models import SandboxDelivery
from wechat.api import mass, tags
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.outgoing import Images, MpNews, Text, Video


def test_mass_send_to_all_sends_the_samples_body(account, followers, received):
    followers(2)
    accepted = mass.mass_send(
        account=account, message=Text("CONTENT"), target=mass.ToAll(), clientmsgid="send-2024-05-01-all-text-1"
    )
    assert accepted.msg_id and not accepted.duplicate
    assert received(Endpoint.MASS_SENDALL) == [sample_json("api/mass_sendall_request_text_to_all.json")]
    assert SandboxDelivery.objects.filter(channel="mass").count() == 2


def test_mass_send_to_a_list_sends_the_samples_body(account, followers, received):
    openids = followers(2)
    mass.mass_send(
        account=account,
        message=Text("hello from wechat."),
        target=mass.ToOpenids(tuple(openids)),
        clientmsgid="send-2024-05-01-list-1",
    )
    sample = sample_json("api/mass_send_request_openids_text.json")
    assert received(Endpoint.MASS_SEND) == [{**sample, "touser": openids}]


def test_mass_send_by_tag_sends_the_samples_body(account, followers, received):
    tag_id = tags.tag_create(account=account, name="VIP")
    tags.tag_members_add(account=account, tag_id=tag_id, openids=followers(2))
    with pytest.raises(WeChatError):  # the sandbox knows no such article: the body is recorded all the same
        mass.mass_send(
            account=account,
            message=MpNews("123dsdajkasd231jhksad"),
            target=mass.ToTag(tag_id),
            clientmsgid="send-2024-05-01-tag2-article42",
        )
    sample = sample_json("api/mass_sendall_request_mpnews_by_tag.json")
    assert received(Endpoint.MASS_SENDALL) == [{**sample, "filter": {"is_to_all": False, "tag_id": tag_id}}]


def test_a_repeated_clientmsgid_is_the_first_send_marked_duplicate(account, followers, errcodes):
    followers(2)
    first = mass.mass_send(account=account, message=Text("一次"), target=mass.ToAll(), clientmsgid="m-1-b-0")
    again = mass.mass_send(account=account, message=Text("一次"), target=mass.ToAll(), clientmsgid="m-1-b-0")
    assert again.duplicate and again.msg_id == first.msg_id
    assert errcodes(Endpoint.MASS_SENDALL) == [0, 45065]
    assert SandboxDelivery.objects.filter(channel="mass").count() == 2


def test_an_unknown_openid_in_the_list_is_40003(account, followers):
    with pytest.raises(WeChatError) as refused:
        mass.mass_send(
            account=account,
            message=Text("x"),
            target=mass.ToOpenids((*followers(1), "oNobody000000000000000000000")),
            clientmsgid="m-2-b-0",
        )
    assert refused.value.errcode == 40003


def test_over_10000_openids_are_refused_before_calling(account, received):
    with pytest.raises(ValueError, match="at most 10000"):
        mass.mass_send(
            account=account, message=Text("x"), target=mass.ToOpenids(tuple(f"o{i}" for i in range(10_001))), clientmsgid="c"
        )
    assert received(Endpoint.MASS_SEND) == []


def test_images_without_media_are_40007(account, followers):
    followers(2)
    with pytest.raises(WeChatError) as refused:
        mass.mass_send(account=account, message=Images(("aaa",)), target=mass.ToAll(), clientmsgid="m-3-b-0")
    assert refused.value.errcode == 40007


def test_the_daily_quota_reaches_the_caller(account, followers, fault):
    followers(2)
    fault(Endpoint.MASS_SENDALL, 45009)
    with pytest.raises(WeChatError) as refused:
        mass.mass_send(account=account, message=Text("x"), target=mass.ToAll(), clientmsgid="m-4-b-0")
    assert refused.value.errcode == 45009


def test_preview_sends_the_samples_body(account, followers, received):
    (openid,) = followers(1)
    mass.mass_preview(account=account, openid=openid, message=Text("CONTENT"))
    assert received(Endpoint.MASS_PREVIEW) == [{**sample_json("api/mass_preview_request_text.json"), "touser": openid}]


def test_preview_of_an_article_carries_send_ignore_reprint(account, followers, received):
    (openid,) = followers(1)
    with pytest.raises(WeChatError):  # the sandbox knows no such article: the body is recorded all the same
        mass.mass_preview(account=account, openid=openid, message=MpNews("mp"), send_ignore_reprint=True)
    assert received(Endpoint.MASS_PREVIEW) == [
        {"touser": openid, "msgtype": "mpnews", "mpnews": {"media_id": "mp"}, "send_ignore_reprint": 1}
    ]


def test_status_and_delete_of_a_sent_message(account, followers, received):
    followers(2)
    accepted = mass.mass_send(account=account, message=Text("x"), target=mass.ToAll(), clientmsgid="m-5-b-0")
    assert mass.mass_status(account=account, msg_id=accepted.msg_id) in ("SEND_SUCCESS", "SENDING")
    with pytest.raises(WeChatError):  # WeChat deletes only articles and videos
        mass.mass_delete(account=account, msg_id=accepted.msg_id, article_idx=1)
    assert received(Endpoint.MASS_DELETE) == [{"msg_id": int(accepted.msg_id), "article_idx": 1}]
    assert received(Endpoint.MASS_GET) == [{"msg_id": int(accepted.msg_id)}]


def test_an_unknown_msg_id_is_40035(account):
    with pytest.raises(WeChatError) as refused:
        mass.mass_status(account=account, msg_id="1")
    assert refused.value.errcode == 40035


def test_speed_set_sends_the_samples_body_and_reads_back(account, received):
    mass.mass_speed_set(account=account, speed=1)
    assert mass.mass_speed_get(account=account).speed == 1
    assert received(Endpoint.MASS_SPEED_SET) == [sample_json("api/mass_speed_set_request.json")]
    with pytest.raises(WeChatError) as refused:
        mass.mass_speed_set(account=account, speed=9)
    assert refused.value.errcode == 45083


def test_videos_go_as_mpvideo(account, followers, received):
    followers(2)
    with pytest.raises(WeChatError):  # no such video in the sandbox
        mass.mass_send(account=account, message=Video("v1", title="片"), target=mass.ToAll(), clientmsgid="m-6-b-0")
    (body,) = received(Endpoint.MASS_SENDALL)
    assert body["msgtype"] == "mpvideo" and body["mpvideo"] == {"media_id": "v1", "title": "片"}
