import io
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import sample_json
from sandbox.endpoints.kf import kf_invite_answer
from sandbox.models import SandboxDelivery, SandboxKfAccount
from wechat.api import kf
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError
from wechat.outgoing import Article, Image, News, Text, custom_payloads

KF = "kf2001@gh_7f083739789a"


@pytest.fixture
def follower(followers):
    (openid,) = followers(1, last_interaction_at=timezone.now())
    return openid


def test_custom_send_delivers_a_payload_of_the_builder(account, follower, received):
    (payload,) = custom_payloads(Text("您好，我们已收到"))
    kf.custom_send(account=account, openid=follower, payload=payload)
    assert received(Endpoint.CUSTOM_SEND) == [{"touser": follower, "msgtype": "text", "text": {"content": "您好，我们已收到"}}]
    assert SandboxDelivery.objects.get(channel="custom").msgtype == "text"


def test_custom_send_as_an_agent_names_the_agent(account, follower, received):
    (payload,) = custom_payloads(Image("media-1"))
    kf.custom_send(account=account, openid=follower, payload=payload, kf_account=KF)
    assert received(Endpoint.CUSTOM_SEND) == [
        {"touser": follower, "msgtype": "image", "image": {"media_id": "media-1"}, "customservice": {"kf_account": KF}}
    ]


def test_news_is_sent_one_article_per_message(account, follower):
    for payload in custom_payloads(News((Article(title="a", url="https://e.example/a"), Article(title="b")))):
        kf.custom_send(account=account, openid=follower, payload=payload)
    assert SandboxDelivery.objects.filter(channel="custom", msgtype="news").count() == 2


def test_outside_the_48_hour_window_is_45015(account, followers):
    (openid,) = followers(1, last_interaction_at=timezone.now() - timedelta(hours=49))
    with pytest.raises(WeChatError) as refused:
        kf.custom_send(account=account, openid=openid, payload=custom_payloads(Text("迟到的回复"))[0])
    assert refused.value.errcode == 45015
    assert not SandboxDelivery.objects.exists()


def test_an_unknown_openid_is_40003(account):
    with pytest.raises(WeChatError) as refused:
        kf.custom_send(account=account, openid="oNobody000000000000000000000", payload=custom_payloads(Text("x"))[0])
    assert refused.value.errcode == 40003


def test_typing_sends_the_samples_body(account, follower, received):
    kf.custom_typing(account=account, openid=follower)
    kf.custom_typing(account=account, openid=follower, typing=False)
    sample = sample_json("api/message_custom_typing_request.json")
    assert received(Endpoint.CUSTOM_TYPING) == [{**sample, "touser": follower}, {"touser": follower, "command": "CancelTyping"}]


def test_agent_accounts_are_added_listed_updated_and_deleted(account, received):
    kf.kf_add(account=account, kf_account=KF, nickname="小微")
    with pytest.raises(WeChatError) as exists:
        kf.kf_add(account=account, kf_account=KF, nickname="小微")
    assert exists.value.errcode == 65406
    kf.kf_update(account=account, kf_account=KF, nickname="小薇")
    assert [(a["kf_account"], a["kf_nick"]) for a in kf.kf_list(account=account)] == [(KF, "小薇")]
    assert kf.kf_online_list(account=account) == []
    kf.kf_delete(account=account, kf_account=KF)
    assert kf.kf_list(account=account) == []
    with pytest.raises(WeChatError) as gone:
        kf.kf_delete(account=account, kf_account=KF)
    assert gone.value.errcode == 65401
    assert received(Endpoint.KF_ADD)[0] == {"kf_account": KF, "nickname": "小微"}
    assert received(Endpoint.KF_DELETE)[0] == {"kf_account": KF}


def test_an_invited_worker_shows_in_the_list(account, sandbox_app):
    kf.kf_add(account=account, kf_account=KF, nickname="小微")
    kf.kf_invite(account=account, kf_account=KF, invite_wx="worker_wx01")
    (entry,) = kf.kf_list(account=account)
    assert entry["invite_wx"] == "worker_wx01" and entry["invite_status"] == "waiting"
    kf_invite_answer(sandbox_app, KF, accept=True)
    assert kf.kf_list(account=account)[0]["kf_wx"] == "worker_wx01"


def test_the_avatar_is_uploaded_as_a_multipart_file(account):
    kf.kf_add(account=account, kf_account=KF, nickname="小微")
    kf.kf_avatar_upload(account=account, kf_account=KF, image=io.BytesIO(b"\xff\xd8\xff\xe0" + b"0" * 64))
    assert SandboxKfAccount.objects.get(kf_account=KF).headimgurl.startswith("https://mmbiz.qpic.cn/")
    with pytest.raises(WeChatError) as refused:
        kf.kf_avatar_upload(account=account, kf_account=KF, image=io.BytesIO(b"GIF89a"))
    assert refused.value.errcode == 40005
