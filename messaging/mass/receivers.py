"""Signal receivers and inbound side effects of mass sends, connected in MassConfig.ready()."""

from __future__ import annotations

from django.db.models.signals import post_delete
from django.dispatch import receiver

from messaging.inbound.effects import effect_register

from .models import MassMessage
from .services.results import mass_job_finished


@receiver(post_delete, sender=MassMessage, dispatch_uid="messaging.mass.recurrence_cleanup")
def _on_message_deleted(sender, instance, **kwargs):
    if instance.recurring_task_id:
        PeriodicTask = instance._meta.get_field("recurring_task").related_model
        PeriodicTask.objects.filter(pk=instance.recurring_task_id).delete()


def _on_inbound(inbound):
    if (inbound.event or "").upper() == "MASSSENDJOBFINISH":
        mass_job_finished(account=inbound.account, data=inbound.payload)


effect_register(name="mass.job_finished", run=_on_inbound, order=40)
