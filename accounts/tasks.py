from celery import shared_task

from . import audit


@shared_task(name="accounts.tasks.audit_entries_prune")
def audit_entries_prune():
    return audit.audit_entries_prune()
