from celery import shared_task

from . import services


@shared_task
def inbound_dispatch(inbound_id: int):
    return services.inbound_dispatch(inbound_id=inbound_id)
