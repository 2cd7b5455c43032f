"""Reads of the QR codes app: scan counts per scene and campaign, by day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from .models import QRCampaign, QRScan, QRScene

CHART_DAYS = 30


@dataclass(frozen=True)
class DayCount:
    day: date
    new: int  # follows through the code (subscribe with the scene)
    existing: int  # scans by followers (SCAN)


@dataclass(frozen=True)
class ScanTotals:
    new: int
    existing: int
    people: int  # distinct followers who scanned

    @property
    def scans(self) -> int:
        return self.new + self.existing


def _totals(scans: QuerySet[QRScan]) -> ScanTotals:
    row = scans.aggregate(
        new=Count("id", filter=Q(kind=QRScan.Kind.SUBSCRIBE)),
        existing=Count("id", filter=Q(kind=QRScan.Kind.SCAN)),
        people=Count("openid", distinct=True),
    )
    return ScanTotals(row["new"], row["existing"], row["people"])


def _daily(scans: QuerySet[QRScan], *, days: int, today: date | None) -> list[DayCount]:
    """One entry per day of the last ``days`` days (today included, the server's time zone), zeros included."""
    today = today or timezone.localdate()
    first = today - timedelta(days=days - 1)
    start = timezone.make_aware(datetime.combine(first, time.min))
    rows = (
        scans.filter(scanned_at__gte=start)
        .annotate(day=TruncDate("scanned_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(
            new=Count("id", filter=Q(kind=QRScan.Kind.SUBSCRIBE)),
            existing=Count("id", filter=Q(kind=QRScan.Kind.SCAN)),
        )
    )
    by_day = {r["day"]: r for r in rows}
    return [
        DayCount(d, by_day.get(d, {}).get("new", 0), by_day.get(d, {}).get("existing", 0))
        for d in (first + timedelta(days=i) for i in range(days))
    ]


def scene_totals(*, scene: QRScene) -> ScanTotals:
    return _totals(scene.scans.all())


def scene_daily(*, scene: QRScene, days: int = CHART_DAYS, today: date | None = None) -> list[DayCount]:
    return _daily(scene.scans.all(), days=days, today=today)


def campaign_totals(*, campaign: QRCampaign) -> ScanTotals:
    return _totals(QRScan.objects.filter(scene__campaign=campaign))


def campaign_daily(*, campaign: QRCampaign, days: int = CHART_DAYS, today: date | None = None) -> list[DayCount]:
    return _daily(QRScan.objects.filter(scene__campaign=campaign), days=days, today=today)


def scenes_with_counts(queryset: QuerySet[QRScene]) -> QuerySet[QRScene]:
    """Scenes annotated with ``new_count`` and ``existing_count``."""
    return queryset.annotate(
        new_count=Count("scans", filter=Q(scans__kind=QRScan.Kind.SUBSCRIBE)),
        existing_count=Count("scans", filter=Q(scans__kind=QRScan.Kind.SCAN)),
    )


def scenes_for_simulator(*, account, now=None) -> list[QRScene]:
    """The account's created codes, newest first, the expired ones last."""
    now = now or timezone.now()
    scenes = list(QRScene.objects.filter(account=account).exclude(url="").order_by("-created_at", "-id"))
    return sorted(scenes, key=lambda s: s.is_expired(now))
