"""Celery tasks for mass sends (群发). Each takes ids and calls a service; names are the ones registered before the move."""

from celery import shared_task

from . import services as mass


@shared_task(name="messaging.mass_tasks.mass_dispatch_due")
def mass_dispatch_due():
    """Beat, every minute: start due scheduled sends and recover stuck batches."""
    return mass.mass_dispatch_due()


@shared_task(name="messaging.mass_tasks.mass_message_dispatch")
def mass_message_dispatch(message_id: int):
    return mass.mass_message_dispatch(message_id=message_id)


@shared_task(name="messaging.mass_tasks.mass_batch_send")
def mass_batch_send(batch_id: int):
    """One WeChat call for one batch; busy answers and timeouts are tried again with the same clientmsgid.

    Calls are counted on the batch (``MAX_CALLS``), not by Celery, so a retry is just the next task.
    """
    result = mass.mass_batch_send(batch_id=batch_id)
    if result["status"] == "retry":
        mass_batch_send.apply_async((batch_id,), countdown=result["retry_in"])
    return result


@shared_task(name="messaging.mass_tasks.mass_batches_poll")
def mass_batches_poll():
    """Beat fallback: mass/get for batches without a job-finish event after a while."""
    return mass.mass_batches_poll()


@shared_task(name="messaging.mass_tasks.mass_message_recur")
def mass_message_recur(template_id: int):
    """Run by a django-celery-beat PeriodicTask (crontab): send a fresh copy of the template message."""
    run = mass.mass_message_run_recurring(template_id=template_id)
    return run.pk if run else None


@shared_task(name="messaging.mass_tasks.idempotency_keys_prune")
def idempotency_keys_prune():
    """Beat, daily: forget Idempotency-Key answers past their retention."""
    return mass.idempotency_keys_prune()
