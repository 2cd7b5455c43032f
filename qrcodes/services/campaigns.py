"""Channel campaigns (渠道二维码): N codes made together from a name pattern; a ZIP of their PNGs with a CSV."""

from __future__ import annotations

import csv
import io
import zipfile

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from qrcodes.models import QRCampaign, QRKind, QRScan, QRScene
from wechat.api.qrcodes import qrcode_show_url

from .scenes import SCENE_STR_MAX_CHARS, scene_png, scene_save

MAX_CODES_PER_CALL = 500


def scene_name(*, pattern: str, campaign: str, n: int) -> str:
    return pattern.replace("{campaign}", campaign).replace("{n}", str(n))[:64]


@transaction.atomic
def campaign_codes_add(*, campaign: QRCampaign, count: int) -> list[QRScene]:
    """Add ``count`` codes numbered after the campaign's last one: scene strings ``<prefix><n>``."""
    if not 1 <= count <= MAX_CODES_PER_CALL:
        raise ValidationError({"count": _("Make 1 to %(max)d codes at a time.") % {"max": MAX_CODES_PER_CALL}})
    start = campaign.scenes.count() + 1
    numbers = range(start, start + count)
    if len(f"{campaign.scene_prefix}{numbers[-1]}") > SCENE_STR_MAX_CHARS:
        raise ValidationError({"scene_prefix": _("The prefix is too long: scene strings have at most 64 characters.")})
    keys = [f"{campaign.scene_prefix}{n}" for n in numbers]
    taken = list(QRScene.objects.filter(account=campaign.account, scene_key__in=keys).values_list("scene_key", flat=True)[:5])
    if taken:
        raise ValidationError(
            {"scene_prefix": _("These scenes already exist on this account: %s. Choose another prefix.") % ", ".join(taken)}
        )
    scenes = []
    for n, key in zip(numbers, keys, strict=True):
        scene = QRScene(
            account=campaign.account,
            campaign=campaign,
            name=scene_name(pattern=campaign.name_pattern, campaign=campaign.name, n=n),
            kind=campaign.kind,
            scene_str=key,
            expire_seconds=campaign.expire_seconds,
        )
        scenes.append(scene_save(scene=scene))
    return scenes


@transaction.atomic
def campaign_create(
    *,
    account,
    name: str,
    count: int,
    scene_prefix: str,
    name_pattern: str = "{campaign} {n}",
    kind: str = QRKind.PERMANENT,
    expire_seconds: int | None = None,
    tags=(),
    reply_rule=None,
) -> QRCampaign:
    campaign = QRCampaign(
        account=account,
        name=name,
        name_pattern=name_pattern,
        scene_prefix=scene_prefix,
        kind=kind,
        expire_seconds=None if kind == QRKind.PERMANENT else expire_seconds,
        reply_rule=reply_rule,
    )
    campaign.full_clean()
    campaign.save()
    if tags:
        campaign.tags.set(tags)
    campaign_codes_add(campaign=campaign, count=count)
    return campaign


CSV_HEADER = ["name", "scene", "kind", "status", "url", "showqrcode", "expires_at", "new_followers", "existing_followers", "png"]


def campaign_zip(*, campaign: QRCampaign) -> bytes:
    """A ZIP of every created code's PNG (named by scene) and codes.csv listing all codes with their counts."""
    scenes = list(campaign.scenes.order_by("id"))
    counts: dict[tuple[int, str], int] = {}
    for scene_id, kind in QRScan.objects.filter(scene__campaign=campaign).values_list("scene_id", "kind"):
        counts[(scene_id, kind)] = counts.get((scene_id, kind), 0) + 1
    table = io.StringIO()
    writer = csv.writer(table)
    writer.writerow(CSV_HEADER)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for scene in scenes:
            png = f"{scene.scene_key}.png" if scene.url else ""
            if png:
                archive.writestr(png, scene_png(scene=scene))
            writer.writerow(
                [
                    scene.name,
                    scene.scene_key,
                    scene.kind,
                    "expired" if scene.is_expired() else scene.sync_status,
                    scene.url,
                    qrcode_show_url(scene.ticket) if scene.ticket else "",
                    scene.expires_at.isoformat() if scene.expires_at else "",
                    counts.get((scene.pk, QRScan.Kind.SUBSCRIBE), 0),
                    counts.get((scene.pk, QRScan.Kind.SCAN), 0),
                    png,
                ]
            )
        # A BOM so that spreadsheet programs read the Chinese names as UTF-8.
        archive.writestr("codes.csv", "\ufeff" + table.getvalue())
    return out.getvalue()
