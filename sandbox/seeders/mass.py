"""Demo mass send for the sandbox account."""

from messaging.mass.models import MassMessage
from messaging.mass.services import mass_message_create


def sandbox_mass_seed(*, account, app) -> None:
    """Demo for ``make run``: a draft text mass send to all followers, ready to preview and send."""
    title = "演示群发 Demo mass send"
    if MassMessage.objects.filter(account=account, title=title).exists():
        return
    mass_message_create(
        account=account,
        title=title,
        msgtype=MassMessage.MsgType.TEXT,
        content="本周新闻：新品上市，欢迎到店体验。 This week: new arrivals in store.",
        audience=MassMessage.Audience.ALL,
    )
