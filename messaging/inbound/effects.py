"""Side effects of inbound messages: each app registers its own, they run after the reply, a failure is retried.

Each effect runs in its own savepoint, so one failing leaves the others' work in place. A failure is stored as an
``InboundEffectFailure`` and run again by the ``inbound_effects_retry_due`` beat task with a growing delay. An effect
runs again only after it raised (its savepoint rolled back), so it is applied once.

System events that arrive by the thousand (TEMPLATESENDJOBFINISH after a push) may also have a *bulk* effect: a sweep
hands every pending event of that kind to it at once, so their results cost one UPDATE per sweep instead of a dozen
statements per event. Such an event must be one no per-message effect acts on but its own; if the bulk effect
fails, the sweep runs the events one by one through the per-message effects, with their retries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from wechat.errors import WeChatError
from wechat.retry import INBOUND_EFFECT, next_attempt_at

from .models import InboundEffectFailure, InboundMessage

logger = logging.getLogger(__name__)

# Attempts in all (the first run included); then the failure stays, without a next attempt, for an operator to see.
MAX_ATTEMPTS = INBOUND_EFFECT.attempts
# How long a retry run holds a due row before another run may take it.
RETRY_LEASE_SECONDS = 300


@dataclass(frozen=True)
class Effect:
    name: str
    run: Callable[[InboundMessage], None]
    order: int


_effects: dict[str, Effect] = {}


def effect_register(*, name: str, run: Callable[[InboundMessage], None], order: int) -> None:
    """Register ``run(inbound)``, called once for every inbound message (lower ``order`` first). Idempotent per name."""
    _effects[name] = Effect(name=name, run=run, order=order)


@dataclass(frozen=True)
class BulkEffect:
    name: str
    event: str
    run: Callable[[list[InboundMessage]], None]


_bulk_effects: dict[str, BulkEffect] = {}


def bulk_effect_register(*, name: str, event: str, run: Callable[[list[InboundMessage]], None]) -> None:
    """Register ``run(messages)`` for every pending event ``event`` of an account, called once per sweep. The
    messages carry only ``services.BULK_EFFECT_FIELDS`` (and their account), not their stored XML or reply.

    The per-message effect of the same event stays registered: it is what runs when the bulk effect fails.
    """
    _bulk_effects[event.lower()] = BulkEffect(name=name, event=event.lower(), run=run)


def bulk_events() -> frozenset[str]:
    """Lower-cased events that a bulk effect handles."""
    return frozenset(_bulk_effects)


def bulk_effect_run(*, event: str, inbounds: list[InboundMessage]) -> bool:
    """Run the bulk effect of ``event`` over ``inbounds`` in one savepoint; False (logged) when it failed."""
    effect = _bulk_effects[event.lower()]
    try:
        with transaction.atomic():
            effect.run(inbounds)
    except Exception as exc:  # the caller runs the messages one by one instead
        logger.error("messaging.bulk_effect_failed", exc_info=exc, extra={"effect": effect.name, "messages": len(inbounds)})
        return False
    return True


def effects() -> list[Effect]:
    return sorted(_effects.values(), key=lambda effect: (effect.order, effect.name))


def _run(effect: Effect, inbound: InboundMessage) -> Exception | None:
    try:
        with transaction.atomic():
            effect.run(inbound)
    except Exception as exc:  # recorded and retried; one effect's failure must not stop the others
        logger.error(
            "messaging.side_effect_failed",
            exc_info=exc,
            extra={"appid": inbound.account.appid, "inbound_id": inbound.pk, "effect": effect.name},
        )
        return exc
    return None


def _error_fields(exc: Exception) -> dict:
    return {
        "errcode": exc.errcode if isinstance(exc, WeChatError) else None,
        "last_error": f"{type(exc).__name__}: {exc}"[:2000],
    }


def effects_run(*, inbound: InboundMessage) -> int:
    """Run every registered effect for a freshly claimed message. Returns how many failed (and were recorded)."""
    failed = 0
    for effect in effects():
        exc = _run(effect, inbound)
        if exc is None:
            continue
        failed += 1
        InboundEffectFailure.objects.update_or_create(
            inbound=inbound,
            effect=effect.name,
            defaults={
                "attempts": 1,
                "next_attempt_at": next_attempt_at(policy=INBOUND_EFFECT, attempts=1, exc=exc),
                **_error_fields(exc),
            },
        )
    return failed


def effect_retry(*, failure_id: int) -> bool:
    """Run one failed effect again; on success its failure row goes. Returns whether it ran without error."""
    failure = InboundEffectFailure.objects.select_related("inbound__account").get(pk=failure_id)
    effect = _effects.get(failure.effect)
    if effect is None:  # the effect is no longer registered: nothing to run
        InboundEffectFailure.objects.filter(pk=failure.pk).update(next_attempt_at=None, last_error="effect not registered")
        return False
    exc = _run(effect, failure.inbound)
    if exc is None:
        failure.delete()
        logger.info("messaging.side_effect_retried", extra={"inbound_id": failure.inbound_id, "effect": effect.name})
        return True
    attempts = failure.attempts + 1
    InboundEffectFailure.objects.filter(pk=failure.pk).update(
        attempts=attempts,
        next_attempt_at=next_attempt_at(policy=INBOUND_EFFECT, attempts=attempts, exc=exc),
        updated_at=timezone.now(),
        **_error_fields(exc),
    )
    return False


def effects_retry_due(*, limit: int = 200) -> int:
    """Beat: run again the failed effects whose next attempt is due. Returns how many ran without error."""
    now = timezone.now()
    due = list(
        InboundEffectFailure.objects.filter(next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", "next_attempt_at")[:limit]
    )
    succeeded = 0
    for pk, due_at in due:
        # Claim: push the row out of the due set; another run that read it too finds the row changed.
        lease = now + timedelta(seconds=RETRY_LEASE_SECONDS)
        if not InboundEffectFailure.objects.filter(pk=pk, next_attempt_at=due_at).update(next_attempt_at=lease):
            continue
        succeeded += effect_retry(failure_id=pk)
    return succeeded
