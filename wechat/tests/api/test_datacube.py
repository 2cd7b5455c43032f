"""Data cube user analysis: request bodies and answers as in the samples, the 7-day span, WeChat's refusals."""

from datetime import date, timedelta
from itertools import pairwise

import pytest

from conftest import sample_json
from sandbox.models import SandboxApp, SandboxCall
from wechat import gateway
from wechat.api import datacube
from wechat.api.endpoints import Endpoint
from wechat.errors import WeChatError, describe


def test_user_summary_sends_the_samples_body(account, received):
    rows = datacube.user_summary(account=account, begin=date(2014, 12, 2), end=date(2014, 12, 7))
    assert received(Endpoint.DATACUBE_USER_SUMMARY) == [sample_json("api/datacube_getusersummary_request.json")]
    assert {r.ref_date for r in rows} == {date(2014, 12, 2) + timedelta(days=i) for i in range(6)}
    assert all(r.new_user >= r.cancel_user >= 0 for r in rows)


@pytest.mark.parametrize("endpoint", [Endpoint.DATACUBE_USER_SUMMARY, Endpoint.DATACUBE_USER_CUMULATE])
def test_the_sandbox_answers_in_the_samples_shape(account, endpoint):
    sample_row = sample_json(f"api/{endpoint.path.replace('/', '_')}_response.json")["list"][0]
    body = gateway.call(account, endpoint, json={"begin_date": "2014-12-07", "end_date": "2014-12-07"})
    assert set(body) == {"list"} and body["list"]
    assert {tuple(sorted(row)) for row in body["list"]} == {tuple(sorted(sample_row))}


def test_the_samples_parse():
    assert datacube.user_summary_parse(sample_json("api/datacube_getusersummary_response.json")) == [
        datacube.UserSummary(ref_date=date(2014, 12, 7), user_source=0, new_user=0, cancel_user=0)
    ]
    assert datacube.user_cumulate_parse(sample_json("api/datacube_getusercumulate_response.json")) == [
        datacube.UserCumulate(ref_date=date(2014, 12, 7), cumulate_user=1217056)
    ]


def test_the_cumulative_total_ends_at_the_current_follower_count_and_moves_by_the_net(account):
    yesterday = date.today() - timedelta(days=1)
    begin = yesterday - timedelta(days=6)
    cumulate = datacube.user_cumulate(account=account, begin=begin, end=yesterday)
    summary = datacube.user_summary(account=account, begin=begin, end=yesterday)
    assert [c.ref_date for c in cumulate] == [begin + timedelta(days=i) for i in range(7)]
    net = {d: 0 for d in (c.ref_date for c in cumulate)}
    for row in summary:
        net[row.ref_date] += row.new_user - row.cancel_user
    for before, after in pairwise(cumulate):
        assert after.cumulate_user - before.cumulate_user == net[after.ref_date]
    # Repeated pulls agree.
    assert datacube.user_cumulate(account=account, begin=begin, end=yesterday) == cumulate


def test_spans_cut_a_month_into_calls_of_seven_days():
    ranges = datacube.spans(begin=date(2026, 10, 1), end=date(2026, 10, 30))
    assert ranges[0] == (date(2026, 10, 1), date(2026, 10, 7)) and ranges[-1] == (date(2026, 10, 29), date(2026, 10, 30))
    assert all((end - begin).days < datacube.USER_SPAN_DAYS for begin, end in ranges)
    assert sum((end - begin).days + 1 for begin, end in ranges) == 30


def test_more_than_seven_days_is_refused_before_calling(account):
    with pytest.raises(ValueError):
        datacube.user_summary(account=account, begin=date(2014, 12, 1), end=date(2014, 12, 8))
    assert not SandboxCall.objects.filter(api=Endpoint.DATACUBE_USER_SUMMARY.path).exists()


@pytest.mark.parametrize(
    ("body", "errcode"),
    [
        ({"begin_date": "2014-12-01", "end_date": "2014-12-08"}, 61501),  # 8 days
        ({"begin_date": "2014-12-07", "end_date": "2014-12-02"}, 61501),  # backwards
        ({"begin_date": "2014/12/02", "end_date": "2014-12-07"}, 61500),
    ],
)
def test_the_sandbox_refuses_spans_and_dates_as_wechat_does(account, body, errcode):
    with pytest.raises(WeChatError) as refused:
        gateway.call(account, Endpoint.DATACUBE_USER_SUMMARY, json=body)
    assert refused.value.errcode == errcode
    assert describe(errcode).zh


def test_today_is_not_reported_yet(account):
    today = date.today() + timedelta(days=1)  # past the China day whatever the machine's zone
    with pytest.raises(WeChatError) as refused:
        datacube.user_cumulate(account=account, begin=today - timedelta(days=1), end=today)
    assert refused.value.errcode == 61501


def test_an_unverified_account_gets_48001(account):
    SandboxApp.objects.filter(appid=account.appid).update(verified=False)
    with pytest.raises(WeChatError) as refused:
        datacube.user_summary(account=account, begin=date(2014, 12, 2), end=date(2014, 12, 7))
    assert refused.value.errcode == 48001
