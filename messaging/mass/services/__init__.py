"""Mass sends (群发): the write side, one module per concern; callers import the functions from here.

A message moves draft → scheduled → sending → sent / partially_failed / failed (or → cancelled before it
starts). The beat task claims due messages with a conditional update and splits the audience into
batches; each batch gets a clientmsgid before any call, is claimed pending → sending before the call, and
a retry (timeout, busy, crashed worker) repeats the call with the same clientmsgid, which WeChat answers
with 45065 and the existing msg_id instead of a second send. A call without a trustworthy answer leaves
the batch "unknown", never "failed": it is repeated with the same clientmsgid while WeChat still
remembers it, and past that window only an operator's explicit choice sends it again. Every state
change is written to ``MassMessageEvent``.
"""

from .compose import (
    DELETABLE_TYPES,
    FILTER_KEYS,
    LEASE,
    MEDIA_TYPES,
    SPEED_LEVELS,
    clientmsgid_for,
    mass_message_delete_article,
    mass_message_preview,
    mass_message_validate,
    mass_speed_get,
    mass_speed_set,
    openids_parse,
)
from .dispatch import (
    BATCH_SIZE,
    MAX_CALLS,
    RECONCILE_EVERY,
    batches_split,
    mass_batch_send,
    mass_dispatch_due,
    mass_message_dispatch,
)
from .keys import idempotency_keys_prune
from .recurrence import RECURRING_TASK, mass_message_recurrence_clear, mass_message_recurrence_set, mass_message_run_recurring
from .results import (
    job_status_meaning,
    mass_batch_poll,
    mass_batches_poll,
    mass_job_finished,
    mass_message_resend,
    mass_message_settle,
)
from .schedule import mass_message_cancel, mass_message_create, mass_message_save, mass_message_schedule

__all__ = [
    "BATCH_SIZE",
    "DELETABLE_TYPES",
    "FILTER_KEYS",
    "LEASE",
    "MAX_CALLS",
    "MEDIA_TYPES",
    "RECONCILE_EVERY",
    "RECURRING_TASK",
    "SPEED_LEVELS",
    "batches_split",
    "clientmsgid_for",
    "idempotency_keys_prune",
    "job_status_meaning",
    "mass_batch_poll",
    "mass_batch_send",
    "mass_batches_poll",
    "mass_dispatch_due",
    "mass_job_finished",
    "mass_message_cancel",
    "mass_message_create",
    "mass_message_delete_article",
    "mass_message_dispatch",
    "mass_message_preview",
    "mass_message_recurrence_clear",
    "mass_message_recurrence_set",
    "mass_message_resend",
    "mass_message_run_recurring",
    "mass_message_save",
    "mass_message_schedule",
    "mass_message_settle",
    "mass_message_validate",
    "mass_speed_get",
    "mass_speed_set",
    "openids_parse",
]
