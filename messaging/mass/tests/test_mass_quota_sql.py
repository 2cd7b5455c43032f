"""The monthly per-follower limit (4 mass messages) counted in SQL: the same figures as adding up each follower's
sends one by one, on SQLite and on PostgreSQL, in a number of queries that does not grow with the batches."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from accounts.tests.factories import OfficialAccountFactory
from followers.models import Follower
from followers.tests.factories import FollowerFactory, TagFactory
from messaging.mass import selectors as mass_selectors
from messaging.mass.models import MassBatch, MassMessage
from messaging.mass.tests.factories import MassBatchFactory, MassMessageFactory

pytestmark = pytest.mark.django_db

Audience = MassMessage.Audience


def _openid(i: int) -> str:
    return f"oQuota{i:022d}"


def _sent(account, *, audience=Audience.OPENIDS, openids=(), tag=None, status=MassBatch.Status.SUBMITTED, when=None):
    message = MassMessageFactory(account=account, audience=audience, tag=tag, openids=list(openids))
    return MassBatchFactory(
        message=message,
        openids=list(openids),
        tag_wechat_id=tag.wechat_id if tag is not None else None,
        status=status,
        submitted_at=when or timezone.now(),
    )


def _at_limit(account, **fields) -> int:
    return mass_selectors.mass_quota_for(message=MassMessageFactory(account=account, **fields))["at_limit"]


def _reference_at_limit(account, message: MassMessage) -> int:
    """Each audience member's sends of the month added up one by one: the rule as it reads."""
    batches = list(
        MassBatch.objects.filter(message__account=account, status__in=(*MassBatch.OK, MassBatch.Status.UNKNOWN))
        .exclude(message=message)
        .filter(submitted_at__gte=timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0))
        .select_related("message")
    )
    if message.audience == Audience.OPENIDS:
        audience = list(dict.fromkeys(message.openids))
    else:
        followers = Follower.objects.filter(account=account, subscribed=True, blacklisted=False)
        if message.audience == Audience.TAG:
            followers = followers.filter(tags=message.tag)
        audience = list(followers.values_list("openid", flat=True))
    tags = {
        f.openid: {t.wechat_id for t in f.tags.all()} for f in Follower.objects.filter(account=account).prefetch_related("tags")
    }
    listed = [set(b.openids) for b in batches]
    count = 0
    for openid in audience:
        received = sum(
            1
            for b, names in zip(batches, listed, strict=True)
            if b.message.audience == Audience.ALL or b.tag_wechat_id in tags.get(openid, ()) or openid in names
        )
        count += received >= mass_selectors.PER_FOLLOWER_MONTHLY
    return count


def test_a_follower_with_four_sends_this_month_is_left_out_of_the_estimate():
    account = OfficialAccountFactory(account_type="service")
    tag = TagFactory(account=account, wechat_id=101)
    ids = [_openid(i) for i in range(5)]
    for openid in ids:
        FollowerFactory(account=account, openid=openid)
    tag.followers.add(*Follower.objects.filter(openid__in=ids[:2]))
    _sent(account, audience=Audience.TAG, tag=tag)
    _sent(account, audience=Audience.ALL)
    _sent(account, openids=[ids[0], ids[2]])
    _sent(account, audience=Audience.FILTER, openids=[ids[0], ids[2], ids[3]])
    _sent(account, openids=[ids[2]])
    # Not this month's, or not sent: not counted.
    _sent(account, openids=[ids[3], ids[4]], when=timezone.now() - timedelta(days=40))
    _sent(account, openids=[ids[3], ids[4]], status=MassBatch.Status.FAILED)
    # ids[0]: tag + all + 2 lists = 4; ids[1]: 2; ids[2]: all + 3 lists = 4; ids[3]: 2; ids[4]: 1.
    assert _at_limit(account, audience=Audience.ALL) == 2
    assert _at_limit(account, audience=Audience.TAG, tag=tag) == 1
    assert _at_limit(account, audience=Audience.FILTER, follower_filter={"tag": tag.pk}) == 1
    assert _at_limit(account, audience=Audience.OPENIDS, openids=[ids[0], ids[0], ids[1], _openid(99)]) == 1
    quota = mass_selectors.mass_quota_for(message=MassMessageFactory(account=account, audience=Audience.ALL))
    assert (quota["audience_size"], quota["at_limit"], quota["will_receive"]) == (5, 2, 3)
    # A fifth send to ids[1] is not a limit yet; a sent fourth is.
    _sent(account, openids=[ids[1]])
    assert _at_limit(account, audience=Audience.ALL) == 2
    _sent(account, openids=[ids[1]])
    assert _at_limit(account, audience=Audience.ALL) == 3


def _mixed_month(n_followers: int, n_batches: int, batch_size: int, seed: int):
    rng = random.Random(seed)
    account = OfficialAccountFactory(account_type="service")
    tags = [TagFactory(account=account, wechat_id=200 + i) for i in range(3)]
    ids = [_openid(i) for i in range(n_followers)]
    Follower.objects.bulk_create(
        [Follower(account=account, openid=o, subscribed=rng.random() > 0.1, blacklisted=rng.random() < 0.05) for o in ids]
    )
    followers = list(Follower.objects.filter(account=account))
    for tag in tags:
        tag.followers.add(*rng.sample(followers, n_followers // 3))
    _sent(account, audience=Audience.ALL)
    for tag in tags[:2]:
        _sent(account, audience=Audience.TAG, tag=tag)
    for _ in range(n_batches):
        _sent(account, openids=rng.sample(ids, batch_size))
    return account, tags, ids, rng


@pytest.mark.parametrize("seed", [1, 2])
def test_the_estimate_is_each_followers_own_sum(seed, django_assert_max_num_queries):
    account, tags, ids, rng = _mixed_month(n_followers=120, n_batches=12, batch_size=40, seed=seed)
    cases = [
        {"audience": Audience.ALL},
        {"audience": Audience.TAG, "tag": tags[0]},
        {"audience": Audience.TAG, "tag": tags[2]},
        {"audience": Audience.OPENIDS, "openids": [*rng.sample(ids, 50), _openid(10_000)]},
    ]
    for fields in cases:
        message = MassMessageFactory(account=account, **fields)
        # Three reads of the batches (all-follower sends, per tag, the lists grouped per OpenID) and one of the audience.
        with django_assert_max_num_queries(6):
            at_limit = mass_selectors.mass_quota_for(message=message)["at_limit"]
        assert at_limit == _reference_at_limit(account, message), fields
        assert at_limit > 0


@pytest.mark.postgres
def test_the_estimate_on_postgresql_with_larger_lists():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL)")
    account, _tags, ids, rng = _mixed_month(n_followers=3000, n_batches=30, batch_size=1000, seed=3)
    for fields in [{"audience": Audience.ALL}, {"audience": Audience.OPENIDS, "openids": rng.sample(ids, 2000)}]:
        message = MassMessageFactory(account=account, **fields)
        assert mass_selectors.mass_quota_for(message=message)["at_limit"] == _reference_at_limit(account, message)


def test_progress_counts_settled_batches():
    message = MassMessageFactory()
    for status in (MassBatch.Status.SUBMITTED, MassBatch.Status.FAILED, MassBatch.Status.SENDING, MassBatch.Status.UNKNOWN):
        MassBatchFactory(message=message, status=status)
    assert mass_selectors.mass_message_progress(message) == (2, 4)
