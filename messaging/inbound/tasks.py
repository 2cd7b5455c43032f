"""Celery tasks of inbound messages. Names are the ones registered before the move: beat rows and queued messages use them."""

from celery import shared_task

from . import effects, services


@shared_task(name="messaging.tasks.inbound_dispatch_pending")
def inbound_dispatch_pending(account_id: int):
    return services.inbound_dispatch_pending(account_id=account_id)


@shared_task(name="messaging.tasks.inbound_dispatch_stale")
def inbound_dispatch_stale():
    return services.inbound_dispatch_stale()


@shared_task(name="messaging.inbound.tasks.callback_signatures_prune")
def callback_signatures_prune():
    return services.callback_signatures_prune()


@shared_task(name="messaging.inbound.tasks.inbound_effects_retry_due")
def inbound_effects_retry_due():

    return effects.effects_retry_due()
