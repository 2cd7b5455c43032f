"""Demo template messages for the sandbox account (`make run`): two library templates, pulled here."""

from __future__ import annotations

from messaging.templatemsg.services import message_template_add, message_templates_pull
from sandbox.models import SandboxTemplate


def sandbox_templates_seed(*, account, app) -> None:
    """Idempotent: add the templates at WeChat's side (the sandbox) once, then pull them into the back office."""
    existing = set(SandboxTemplate.objects.filter(app=app).values_list("template_id_short", flat=True))
    for short in ("TM00015", "OPENTM417881526"):
        if short not in existing:
            message_template_add(account=account, template_id_short=short)
    message_templates_pull(account=account)
