"""TEMPLATESENDJOBFINISH events update the message they report on (API.md §2)."""

from messaging.inbound.effects import effect_register

from .services import template_job_finished


def on_template_job_finished(inbound):
    if inbound.msg_type != "event" or inbound.event.upper() != "TEMPLATESENDJOBFINISH":
        return
    payload = inbound.payload or {}
    template_job_finished(
        account=inbound.account, msgid=str(payload.get("MsgID") or inbound.msg_id), status_text=str(payload.get("Status", ""))
    )


effect_register(name="templatemsg.job_finished", run=on_template_job_finished, order=40)
