"""Shared set-up for the tag, blacklist and remark tests: WeChat's side (sandbox) and ours, side by side."""

from __future__ import annotations

from followers.models import Follower, Tag
from followers.tests.factories import TagFactory
from sandbox.models import SandboxCall, SandboxFollower, SandboxTag
from sandbox.tests.factories import SandboxTagFactory
from wechat.models import SyncStatus


def wechat_followers(app, count: int, *, prefix: str = "oFans", **fields) -> list[str]:
    """Followers on WeChat's side only."""
    openids = [f"{prefix}{i:05d}" for i in range(count)]
    SandboxFollower.objects.bulk_create([SandboxFollower(app=app, openid=o, **fields) for o in openids])
    return openids


def followers(account, app, count: int, *, prefix: str = "oFans", **fields) -> list[Follower]:
    """Followers known to both WeChat (sandbox) and the project, as after a follower sync."""
    openids = wechat_followers(app, count, prefix=prefix, **{k: v for k, v in fields.items() if k in ("subscribed",)})
    Follower.objects.bulk_create([Follower(account=account, openid=o, **fields) for o in openids])
    return list(Follower.objects.filter(account=account, openid__in=openids).order_by("id"))


def synced_tag(account, app, name: str, *, tagid: int | None = None) -> Tag:
    """A tag that exists on both sides."""
    tagid = tagid or 100 + SandboxTag.objects.filter(app=app).count()
    SandboxTagFactory(app=app, tagid=tagid, name=name)
    return TagFactory(account=account, name=name, wechat_id=tagid, sync_status=SyncStatus.SYNCED)


def calls(api: str, *, errcode: int | None = 0) -> list[SandboxCall]:
    qs = SandboxCall.objects.filter(api=api).order_by("id")
    if errcode is not None:
        qs = qs.filter(errcode=errcode)
    return list(qs)


def wechat_tagids(app, openid: str) -> list[int]:
    return SandboxFollower.objects.get(app=app, openid=openid).tagids


def allow_eager_retries(monkeypatch) -> None:
    """Eager Celery runs ``self.retry()`` only when task errors do not propagate; the tests look at the rows instead."""
    from wxsite.celery import app

    monkeypatch.setitem(app.conf, "task_eager_propagates", False)
