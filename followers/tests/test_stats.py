"""Follower figures from the data cube: nightly pulls within the 7-day span, and growth from local records otherwise."""

import io
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from followers import selectors, tasks
from followers.models import FollowerDailyStat
from followers.services import stats
from followers.tests.factories import FollowerFactory
from sandbox.models import SandboxApp, SandboxCall
from wechat.api import datacube
from wechat.api.endpoints import Endpoint


def _calls(endpoint: Endpoint) -> list[dict]:
    return list(SandboxCall.objects.filter(api=endpoint.path).order_by("id").values_list("request_json", flat=True))


def test_a_first_pull_backfills_a_month_in_calls_of_seven_days(account):
    assert stats.follower_stats_pull(account=account) == stats.BACKFILL_DAYS
    calls = _calls(Endpoint.DATACUBE_USER_SUMMARY)
    assert len(calls) == 5 and len(_calls(Endpoint.DATACUBE_USER_CUMULATE)) == 5
    yesterday = datacube.latest_day()
    assert calls[-1]["end_date"] == yesterday.isoformat()
    rows = list(FollowerDailyStat.objects.filter(account=account))
    assert len(rows) == 30 and rows[-1].day == yesterday
    assert all(r.cumulate_user is not None and r.new_user == sum(r.new_by_source.values()) for r in rows)


def test_the_nightly_pull_rereads_the_last_week_without_duplicates(account):
    stats.follower_stats_pull(account=account)
    before = {r.day: r.cumulate_user for r in FollowerDailyStat.objects.filter(account=account)}
    SandboxCall.objects.all().delete()

    assert tasks.follower_stats_pull_nightly.delay().get() == 1

    assert [(c["begin_date"], c["end_date"]) for c in _calls(Endpoint.DATACUBE_USER_SUMMARY)] == [
        ((datacube.latest_day() - timedelta(days=6)).isoformat(), datacube.latest_day().isoformat())
    ]
    assert {r.day: r.cumulate_user for r in FollowerDailyStat.objects.filter(account=account)} == before


def test_the_nightly_pull_skips_unverified_accounts_and_is_scheduled(account):
    account.verified = False
    account.save()
    assert tasks.follower_stats_pull_nightly.delay().get() == 0
    assert settings.CELERY_BEAT_SCHEDULE["followers.stats_pull_nightly"]["task"] == "followers.tasks.follower_stats_pull_nightly"


def test_a_refusal_stores_nothing_and_reports_the_errcode(account):
    SandboxApp.objects.filter(appid=account.appid).update(verified=False)
    assert tasks.follower_stats_pull.delay(account.pk).get() == {"errcode": 48001}
    assert not FollowerDailyStat.objects.exists()


def test_growth_comes_from_the_data_cube_when_pulled(account):
    stats.follower_stats_pull(account=account)
    growth = selectors.follower_growth(account=account, days=14)
    assert growth.source == "datacube" and len(growth.days) == 14 and growth.days[-1] == datacube.latest_day()
    by_day = {r.day: r for r in FollowerDailyStat.objects.filter(account=account)}
    assert growth.cumulate == [by_day[d].cumulate_user for d in growth.days]
    assert growth.net == [by_day[d].new_user - by_day[d].cancel_user for d in growth.days]


def test_growth_falls_back_to_local_follower_records(account):
    now = timezone.now()
    for i, (days_ago, left_days_ago) in enumerate([(0, None), (1, None), (1, 0), (3, None), (40, None)]):
        FollowerFactory(
            account=account,
            openid=f"oLocal{i:022d}",
            subscribe_time=now - timedelta(days=days_ago),
            subscribed=left_days_ago is None,
            unsubscribed_at=None if left_days_ago is None else now - timedelta(days=left_days_ago),
        )
    growth = selectors.follower_growth(account=account, days=7)
    assert growth.source == "local"
    assert growth.new == [0, 0, 0, 1, 0, 2, 1]
    assert growth.cancel == [0, 0, 0, 0, 0, 0, 1]
    assert growth.cumulate[-1] == 4 and growth.cumulate[-2] == 4 and growth.cumulate[-3] == 2 and growth.cumulate[0] == 1


@pytest.mark.django_db
def test_the_demo_seed_gives_the_sandbox_account_a_month_of_figures():
    from django.core.management import call_command

    from accounts.models import OfficialAccount

    call_command("sandbox_seed", stdout=io.StringIO())
    call_command("sandbox_seed", stdout=io.StringIO())
    account = OfficialAccount.objects.get(is_sandbox=True)
    assert FollowerDailyStat.objects.filter(account=account).count() == stats.BACKFILL_DAYS
    assert selectors.follower_growth(account=account).source == "datacube"
