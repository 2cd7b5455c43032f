"""The one outgoing-message builder, compared with WeChat's samples and with what the app-side builders send today
(customer-service bodies are compared with WeChat's documented shapes only)."""

import json

import pytest

from conftest import sample_json, sample_text
from wechat.outgoing import (
    SUPPORTED,
    Article,
    Channel,
    Image,
    Images,
    MiniProgramPage,
    MpNews,
    Music,
    News,
    Text,
    TransferCustomerService,
    UnsupportedMessage,
    Video,
    Voice,
    WxCard,
    custom_payloads,
    from_dict,
    mass_payload,
    reply_from_xml,
    reply_xml,
    summary,
    to_dict,
)

NINE = tuple(
    Article(title=f"t{i}", description=f"d{i}", url=f"https://e.example/{i}", picurl=f"https://p.example/{i}") for i in range(9)
)

EVERY_MESSAGE = [
    Text("你好 <a href='https://e.example/?a=1&b=2'>链接</a> ]]> end"),
    Image("media_id"),
    Voice("media_id"),
    Video("media_id", "title", "description"),
    Video("media_id"),
    Music(title="TITLE", description="DESCRIPTION", music_url="m", hq_music_url="hq", thumb_media_id="thumb"),
    News(NINE[:1]),
    News(NINE),
    Images(("aaa", "bbb"), recommend="xxx", need_open_comment=True),
    MpNews("mp"),
    MiniProgramPage(appid="wxapp", pagepath="pages/index", title="卡片", thumb_media_id="thumb"),
    WxCard("card"),
    TransferCustomerService(),
    TransferCustomerService("test1@test"),
]


def on(channel):
    return [m for m in EVERY_MESSAGE if type(m) in SUPPORTED[channel]]


def off(channel):
    return [m for m in EVERY_MESSAGE if type(m) not in SUPPORTED[channel]]


# --- passive replies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "sample"),
    [
        (Text("你好"), "reply_text.xml"),
        (Image("media_id"), "reply_image.xml"),
        (Voice("media_id"), "reply_voice.xml"),
        (Video("media_id", "title", "description"), "reply_video.xml"),
        (
            Music(
                title="TITLE",
                description="DESCRIPTION",
                music_url="MUSIC_Url",
                hq_music_url="HQ_MUSIC_Url",
                thumb_media_id="media_id",
            ),
            "reply_music.xml",
        ),
        (News((Article(title="title1", description="description1", url="url", picurl="picurl"),)), "reply_news_1_article.xml"),
    ],
)
def test_reply_xml_is_the_sample_byte_for_byte(message, sample):
    xml = reply_xml(message, to_user="toUser", from_user="fromUser", create_time=12345678)
    assert xml == sample_text(f"replies/{sample}").strip()


def test_transfer_to_an_agent_is_the_sample_byte_for_byte():
    xml = reply_xml(TransferCustomerService("test1@test"), to_user="touser", from_user="fromuser", create_time=1399197672)
    assert xml == sample_text("replies/reply_transfer_customer_service.xml").strip()


def test_news_replies_carry_one_article_for_a_message_and_eight_for_an_event():
    assert "<ArticleCount>1</ArticleCount>" in reply_xml(News(NINE), to_user="o", from_user="gh")
    assert "<ArticleCount>8</ArticleCount>" in reply_xml(News(NINE), to_user="o", from_user="gh", for_event=True)


@pytest.mark.parametrize("message", off(Channel.REPLY), ids=repr)
def test_types_a_passive_reply_cannot_carry_are_refused(message):
    with pytest.raises(UnsupportedMessage):
        reply_xml(message, to_user="o", from_user="gh")


# --- customer-service messages --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "body"),
    [
        (Text("在的"), '{"msgtype": "text", "text": {"content": "在的"}}'),
        (Image("m1"), '{"msgtype": "image", "image": {"media_id": "m1"}}'),
        (
            News(NINE[:1]),
            '{"msgtype": "news", "news": {"articles": [{"title": "t0", "description": "d0", '
            '"url": "https://e.example/0", "picurl": "https://p.example/0"}]}}',
        ),
        (
            MiniProgramPage(appid="wxapp", pagepath="pages/a", title="卡片", thumb_media_id="t"),
            '{"msgtype": "miniprogrampage", "miniprogrampage": {"appid": "wxapp", "pagepath": "pages/a", '
            '"title": "卡片", "thumb_media_id": "t"}}',
        ),
    ],
)
def test_custom_payloads_of_operator_replies_are_wechats_bodies(message, body):
    """The message/custom/send bodies of API.md §9 (without touser), in WeChat's key order."""
    (payload,) = custom_payloads(message)
    assert json.dumps(payload, ensure_ascii=False) == body


def test_news_goes_one_article_per_customer_service_message():
    payloads = custom_payloads(News(NINE[:3]))
    assert [p["news"]["articles"][0]["title"] for p in payloads] == ["t0", "t1", "t2"]
    assert all(len(p["news"]["articles"]) == 1 for p in payloads)


def test_articles_cards_and_mini_programs_travel_as_customer_service_messages():
    assert custom_payloads(MpNews("mp")) == [{"msgtype": "mpnews", "mpnews": {"media_id": "mp"}}]
    assert custom_payloads(WxCard("c")) == [{"msgtype": "wxcard", "wxcard": {"card_id": "c"}}]


def test_a_transfer_to_customer_service_sends_no_customer_service_message():
    assert custom_payloads(TransferCustomerService("a@b")) == []


def test_mass_image_sets_are_refused_as_customer_service_messages():
    with pytest.raises(UnsupportedMessage):
        custom_payloads(Images(("a",)))


# --- mass sends -----------------------------------------------------------------------------------


def test_mass_payload_to_all_is_the_sample():
    body = {"filter": {"is_to_all": True}, **mass_payload(Text("CONTENT")), "clientmsgid": "send-2024-05-01-all-text-1"}
    assert body == sample_json("api/mass_sendall_request_text_to_all.json")


def test_mass_payload_to_a_list_is_the_sample():
    body = {"touser": ["OPENID1", "OPENID2"], **mass_payload(Text("hello from wechat.")), "clientmsgid": "send-2024-05-01-list-1"}
    assert body == sample_json("api/mass_send_request_openids_text.json")


def test_mass_payload_of_an_article_by_tag_is_the_sample():
    body = {"filter": {"is_to_all": False, "tag_id": 2}, **mass_payload(MpNews("123dsdajkasd231jhksad"))}
    body["clientmsgid"] = "send-2024-05-01-tag2-article42"
    assert body == sample_json("api/mass_sendall_request_mpnews_by_tag.json")


def test_mass_payload_of_images_is_the_sample():
    images = Images(("aaa", "bbb", "ccc"), recommend="xxx", need_open_comment=True, only_fans_can_comment=False)
    body = {"filter": {"is_to_all": False, "tag_id": 2}, **mass_payload(images)}
    assert body == sample_json("api/mass_sendall_request_images.json")


def test_mass_preview_is_the_sample():
    assert {"touser": "OPENID", **mass_payload(Text("CONTENT"))} == sample_json("api/mass_preview_request_text.json")


@pytest.mark.parametrize("message", off(Channel.MASS), ids=repr)
def test_types_a_mass_send_cannot_carry_are_refused(message):
    with pytest.raises(UnsupportedMessage):
        mass_payload(message)


# --- summaries and storage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "preview"),
    [
        ({"msgtype": "text", "text": {"content": "你好"}}, "你好"),
        ({"msgtype": "news", "news": {"articles": [{"title": "t0"}]}}, "[news] t0"),
        ({"msgtype": "miniprogrampage", "miniprogrampage": {"title": "卡片"}}, "[miniprogrampage] 卡片"),
        ({"msgtype": "image", "image": {"media_id": "m"}}, "[image]"),
        ({"msgtype": "wxcard", "wxcard": {"card_id": "c"}}, "[wxcard]"),
    ],
)
def test_summary_of_a_stored_customer_service_payload(payload, preview):
    assert summary(payload) == preview


@pytest.mark.parametrize("message", on(Channel.CUSTOM), ids=repr)
def test_summary_of_a_payload_is_the_summary_of_its_message(message):
    for payload in custom_payloads(message):
        if not isinstance(message, News):
            assert summary(payload) == summary(message)


@pytest.mark.parametrize("message", on(Channel.REPLY), ids=repr)
def test_a_stored_passive_reply_reads_back_as_its_message(message):
    xml = reply_xml(message, to_user="openid", from_user="gh_123", for_event=True)
    if isinstance(message, News):
        message = News(message.articles[:8])
    assert reply_from_xml(xml) == message


def test_reply_from_xml_refuses_a_type_it_does_not_build():
    with pytest.raises(UnsupportedMessage):
        reply_from_xml("<xml><MsgType><![CDATA[location]]></MsgType></xml>")


def test_summary_of_a_message_value():
    assert summary(Text("你好")) == "你好"
    assert summary(News(NINE)) == "[news] t0"
    assert summary(MiniProgramPage(appid="a", pagepath="p", title="卡片")) == "[miniprogrampage] 卡片"
    assert summary(Image("m")) == "[image]"


@pytest.mark.parametrize("message", EVERY_MESSAGE, ids=repr)
def test_every_message_survives_a_json_round_trip(message):
    assert from_dict(json.loads(json.dumps(to_dict(message)))) == message


def test_from_dict_refuses_unknown_types_and_fields():
    with pytest.raises(UnsupportedMessage):
        from_dict({"type": "location"})
    with pytest.raises(ValueError, match="unknown fields"):
        from_dict({"type": "text", "content": "a", "touser": "o"})


def test_the_support_matrix_names_each_channels_types():
    assert SUPPORTED[Channel.REPLY] >= {Text, News, TransferCustomerService}
    assert MiniProgramPage in SUPPORTED[Channel.CUSTOM] and MiniProgramPage not in SUPPORTED[Channel.REPLY]
    assert Images in SUPPORTED[Channel.MASS] and Image not in SUPPORTED[Channel.MASS]
