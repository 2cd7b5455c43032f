"""TEMPLATESENDJOBFINISH events update the message they report on (API.md §2)."""

from messaging.inbound.effects import bulk_effect_register, effect_register

from .services import template_job_finished, template_jobs_finished

EVENT = "TEMPLATESENDJOBFINISH"


def _result(inbound) -> tuple[str, str]:
    payload = inbound.payload or {}
    return str(payload.get("MsgID") or inbound.msg_id), str(payload.get("Status", ""))


def on_template_job_finished(inbound):
    if inbound.msg_type != "event" or inbound.event.upper() != EVENT:
        return
    msgid, status_text = _result(inbound)
    template_job_finished(account=inbound.account, msgid=msgid, status_text=status_text)


def on_template_jobs_finished(inbounds):
    """A sweep's job-finish events of one account, applied together (one UPDATE per status)."""
    if inbounds:
        template_jobs_finished(account=inbounds[0].account, results=[_result(inbound) for inbound in inbounds])


effect_register(name="templatemsg.job_finished", run=on_template_job_finished, order=40)
bulk_effect_register(name="templatemsg.jobs_finished", event=EVENT, run=on_template_jobs_finished)
