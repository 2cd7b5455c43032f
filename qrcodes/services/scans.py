"""Scans of a QR scene (inbound subscribe-with-scene and SCAN events): recorded once, then the scene's actions.

Exactly once: the inbound log already dedupes WeChat's retries (one row per event); the scan row is unique per
inbound row and is written in the same savepoint as the actions it triggers (tagging operations, queued
customer-service messages), so an effect that runs again after a failure finds the row and does nothing.

Replies and auto-reply's QR-scan trigger (docs/architecture.md §7, "QR scan actions"): the callback's passive reply
is computed first by the auto-reply matcher, which already answers a scan with a QR-scan rule keyed to the scene
(and a follow through a code with that rule before the welcome). A scene's reply rule is sent here, as customer-service
messages, only when that passive reply did not answer the scan: when it was the scene's rule itself, or any QR-scan
rule, the follower has had the answer and nothing more is sent.
"""

from __future__ import annotations

import logging
import random

from celery import chain
from django.core.exceptions import ValidationError
from django.db import transaction

import jobs
from followers.models import Follower
from followers.services.operations import followers_tag_add
from messaging.autoreply.models import AutoReplyRule
from messaging.autoreply.replies import content_message
from messaging.kefu.models import OutboundMessage
from messaging.kefu.services import outbound_create
from qrcodes.models import QRScan, QRScene
from wechat.errors import WeChatError
from wechat.outgoing import custom_payloads

logger = logging.getLogger(__name__)

SUBSCRIBE_PREFIX = "qrscene_"


def scan_of(inbound) -> tuple[str, str] | None:
    """(kind, scene value) of a scan event, or None. WeChat spells SCAN in capitals and subscribe in lower case."""
    if inbound.msg_type != "event":
        return None
    event = (inbound.event or "").lower()
    key = str(inbound.event_key or (inbound.payload or {}).get("EventKey") or "").strip()
    if event == "subscribe" and key.startswith(SUBSCRIBE_PREFIX) and len(key) > len(SUBSCRIBE_PREFIX):
        return QRScan.Kind.SUBSCRIBE, key.removeprefix(SUBSCRIBE_PREFIX)
    if event == "scan" and key:
        return QRScan.Kind.SCAN, key
    return None


def scan_record(*, inbound) -> QRScan | None:
    """Inbound effect: record a scan of one of the account's scenes and run its actions, once per inbound event."""
    found = scan_of(inbound)
    if found is None or not inbound.openid:
        return None
    kind, key = found
    scene = QRScene.objects.select_related("campaign").filter(account_id=inbound.account_id, scene_key=key).first()
    if scene is None:
        logger.info("qrcodes.scan_unknown_scene", extra={"inbound_id": inbound.pk, "scene": key[:64]})
        return None
    if QRScan.objects.filter(inbound=inbound).exists():
        return None
    scan = QRScan.objects.create(
        account_id=inbound.account_id,
        scene=scene,
        inbound=inbound,
        openid=inbound.openid,
        kind=kind,
        scanned_at=inbound.create_time,
    )
    notes = _tags_apply(scan, scene)
    notes += _reply_apply(scan, scene, inbound)
    if notes:
        scan.note = "; ".join(notes)[:255]
    scan.save(update_fields=["tags_added", "reply", "note"])
    logger.info("qrcodes.scan_recorded", extra={"scan_id": scan.pk, "scene_id": scene.pk, "kind": kind})
    return scan


def _scene_tags(scene: QRScene) -> list:
    tags = {t.pk: t for t in scene.tags.all()}
    if scene.campaign_id:
        tags.update({t.pk: t for t in scene.campaign.tags.all()})
    return sorted(tags.values(), key=lambda t: t.name)


def _tags_apply(scan: QRScan, scene: QRScene) -> list[str]:
    tags = _scene_tags(scene)
    if not tags:
        return []
    follower = Follower.objects.filter(account_id=scan.account_id, openid=scan.openid, subscribed=True)
    if not follower.exists():
        return ["not tagged: not a follower"]
    notes = []
    for tag in tags:
        if follower.filter(tags=tag).exists():
            continue
        try:
            followers_tag_add(tag=tag, followers=follower)
        except ValidationError as exc:
            notes.append(f"{tag.name}: {' '.join(exc.messages)}")
            continue
        scan.tags_added.append(tag.name)
    return notes


def _reply_rule(scene: QRScene) -> AutoReplyRule | None:
    rule_id = scene.reply_rule_id or (scene.campaign.reply_rule_id if scene.campaign_id else None)
    return AutoReplyRule.objects.filter(pk=rule_id).first() if rule_id else None


def _reply_apply(scan: QRScan, scene: QRScene, inbound) -> list[str]:
    rule = _reply_rule(scene)
    if rule is None:
        return []
    matched = AutoReplyRule.objects.filter(pk=inbound.matched_rule_id).first() if inbound.matched_rule_id else None
    if matched is not None and (matched.pk == rule.pk or matched.trigger == AutoReplyRule.Trigger.SCAN):
        # The passive reply answered this scan (auto-reply's own follow-ups send the rest of that rule).
        scan.reply = QRScan.Reply.PASSIVE
        return [] if matched.pk == rule.pk else [f"answered by the QR-scan rule “{matched.name}”"]
    if not rule.enabled:
        return [f"rule “{rule.name}” is disabled"]
    contents = list(rule.contents.order_by("position", "id"))
    if rule.reply_mode == AutoReplyRule.ReplyMode.RANDOM and contents:
        contents = [random.choice(contents)]
    payloads = [p for content in contents for p in custom_payloads(content_message(content))]
    if not payloads:
        return [f"rule “{rule.name}” has nothing to send as customer-service messages"]
    ids = [
        outbound_create(
            account=scan.account,
            openid=scan.openid,
            payload=payload,
            source=OutboundMessage.Source.AUTO_REPLY,
            task_id=f"qrscan:{scan.pk}:{position}",
        ).pk
        for position, payload in enumerate(payloads)
    ]
    scan.reply = QRScan.Reply.SENT

    def enqueue():
        customer_service_send = jobs.task("messaging.tasks.customer_service_send")

        # A chain keeps the order and stops at the first failure (45015 window closed, 45047 too many).
        try:
            chain(*(customer_service_send.si(pk) for pk in ids)).apply_async(countdown=1)
        except WeChatError as exc:  # only when tasks run eagerly; the rows keep the outcome
            logger.warning("qrcodes.reply_failed", extra={"scan_id": scan.pk, "errcode": exc.errcode})

    transaction.on_commit(enqueue)
    return []
