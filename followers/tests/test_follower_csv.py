"""The follower CSV export speaks the operator's language and time zone, like the list it comes from."""

import csv
import io
from datetime import UTC, datetime

import pytest

from followers.models import Follower
from followers.tests.tagging import followers

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", None))
    return client


@pytest.fixture
def follower(account, sandbox_app):
    person = followers(account, sandbox_app, 1)[0]
    # 23:30 UTC is 07:30 the next morning in Asia/Shanghai, the day changes too.
    Follower.objects.filter(pk=person.pk).update(
        subscribe_time=datetime(2026, 3, 1, 23, 30, tzinfo=UTC),
        last_interaction_at=datetime(2026, 3, 2, 1, 5, 9, tzinfo=UTC),
        subscribe_scene="ADD_SCENE_QR_CODE",
    )
    return person


def export(client, prefix: str) -> list[list[str]]:
    response = client.get(f"{prefix}/admin/followers/follower/export.csv")
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def test_times_are_in_the_time_zone_the_admin_shows(admin_client, follower, settings):
    assert settings.TIME_ZONE == "Asia/Shanghai"
    header, row = export(admin_client, "/en")
    values = dict(zip(header, row, strict=True))
    assert values["subscribe_time (Asia/Shanghai)"] == "2026-03-02 07:30:00"
    assert values["last_interaction_at (Asia/Shanghai)"] == "2026-03-02 09:05:09"


def test_the_chinese_admin_exports_chinese_headers_and_scene_names(admin_client, follower):
    header, row = export(admin_client, "")
    values = dict(zip(header, row, strict=True))
    assert header[:3] == ["AppID", "OpenID", "UnionID"]
    assert values["关注时间 (Asia/Shanghai)"] == "2026-03-02 07:30:00"
    assert values["关注渠道"] == "扫描二维码"
    assert values["OpenID"] == follower.openid
    assert not any(column.isascii() for column in header[3:])


def test_the_english_admin_keeps_the_column_keys_scripts_read(admin_client, follower):
    header, row = export(admin_client, "/en")
    assert header[:5] == ["appid", "openid", "unionid", "remark", "subscribed"]
    assert dict(zip(header, row, strict=True))["subscribe_scene"] == "QR code scan (扫描二维码)"
