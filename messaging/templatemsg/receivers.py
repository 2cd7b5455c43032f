"""TEMPLATESENDJOBFINISH events update the message they report on (API.md §2)."""

from django.dispatch import receiver

from messaging.inbound.services import inbound_received

from .services import template_job_finished


@receiver(inbound_received, dispatch_uid="template_messages.job_finished")
def on_template_job_finished(sender, inbound, **kwargs):
    if inbound.msg_type != "event" or inbound.event.upper() != "TEMPLATESENDJOBFINISH":
        return
    payload = inbound.payload or {}
    template_job_finished(
        account=inbound.account, msgid=str(payload.get("MsgID") or inbound.msg_id), status_text=str(payload.get("Status", ""))
    )
