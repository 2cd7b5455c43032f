from django.apps import AppConfig


class MessagingConfig(AppConfig):
    """Keeps the migration history of the tables that moved to the messaging.* feature apps (label "messaging")."""

    name = "messaging"
    label = "messaging"
