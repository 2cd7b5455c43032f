import pytest

from conftest import sample_json
from wechat.api import templates
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError

SAMPLE = sample_json("api/message_template_send_request.json")


@pytest.fixture
def template_id(account):
    return templates.template_add(account=account, template_id_short="TM00015")


def test_template_add_sends_the_samples_body_and_lists_the_template(account, template_id, received):
    assert received(Endpoint.TEMPLATE_ADD) == [sample_json("api/template_api_add_template_request.json")]
    (listed,) = [t for t in templates.templates_list(account=account) if t.template_id == template_id]
    assert listed.title == "订单支付成功" and "{{keyword1.DATA}}" in listed.content


def test_template_add_with_keyword_names(account, received):
    templates.template_add(account=account, template_id_short="TM00015", keyword_names=["商品名称", "支付金额", "支付时间"])
    assert received(Endpoint.TEMPLATE_ADD) == [
        {"template_id_short": "TM00015", "keyword_name_list": ["商品名称", "支付金额", "支付时间"]}
    ]


def test_an_unknown_library_number_is_40037(account):
    with pytest.raises(WeChatError) as refused:
        templates.template_add(account=account, template_id_short="TM99999")
    assert refused.value.errcode == 40037


def test_template_send_sends_the_samples_body(account, template_id, followers, received):
    (openid,) = followers(1)
    msgid = templates.template_send(
        account=account,
        openid=openid,
        template_id=template_id,
        data=SAMPLE["data"],
        url=SAMPLE["url"],
        miniprogram=SAMPLE["miniprogram"],
    )
    assert msgid.isdigit()
    assert received(Endpoint.TEMPLATE_SEND) == [{**SAMPLE, "touser": openid, "template_id": template_id}]


def test_a_sender_sends_the_samples_body_as_template_send_does(account, template_id, followers, received):
    (openid,) = followers(1)
    send = templates.template_sender(
        account=account, template_id=template_id, data=SAMPLE["data"], url=SAMPLE["url"], miniprogram=SAMPLE["miniprogram"]
    )
    assert send(openid=openid, client_msg_id="tp7-0a1b").isdigit()
    assert send(openid=openid).isdigit()
    assert received(Endpoint.TEMPLATE_SEND) == [
        {**SAMPLE, "touser": openid, "template_id": template_id, "client_msg_id": "tp7-0a1b"},
        {**SAMPLE, "touser": openid, "template_id": template_id},
    ]


def test_the_same_client_msg_id_returns_the_first_msgid(account, template_id, followers, received):
    (openid,) = followers(1)
    data = {key: {"value": "x"} for key in ("keyword1", "keyword2", "keyword3")}
    send = templates.template_sender(account=account, template_id=template_id, data=data)
    first = send(openid=openid, client_msg_id="order-42")
    again = send(openid=openid, client_msg_id="order-42")
    assert first == again
    assert received(Endpoint.TEMPLATE_SEND)[0] == {
        "touser": openid,
        "template_id": template_id,
        "client_msg_id": "order-42",
        "data": data,
    }


def test_an_unknown_openid_is_40003(account, template_id):
    with pytest.raises(WeChatError) as refused:
        templates.template_send(account=account, openid="oNobody000000000000000000000", template_id=template_id, data={})
    assert refused.value.errcode == 40003


def test_template_delete(account, template_id, received):
    templates.template_delete(account=account, template_id=template_id)
    assert template_id not in {t.template_id for t in templates.templates_list(account=account)}
    assert received(Endpoint.TEMPLATE_DELETE) == [{"template_id": template_id}]


def test_industry_set_sends_strings_and_reads_back(account, received):
    templates.industry_set(account=account, industry_id1=1, industry_id2=41)
    industry = templates.industry_get(account=account)
    assert industry["secondary_industry"] == {"first_class": "运输与仓储", "second_class": "快递"}
    assert set(industry) == set(sample_json("api/template_get_industry_response.json")) - {"errcode", "errmsg"}
    assert received(Endpoint.INDUSTRY_SET) == [{"industry_id1": "1", "industry_id2": "41"}]


def test_a_second_industry_change_within_a_month_is_43100(account):
    templates.industry_set(account=account, industry_id1=1, industry_id2=2)
    with pytest.raises(WeChatError) as refused:
        templates.industry_set(account=account, industry_id1=1, industry_id2=10)
    assert refused.value.errcode == 43100
