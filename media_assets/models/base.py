"""Fields several media_assets models share: who made a row in the back office, and when."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def author_field(verbose_name) -> models.ForeignKey:
    """The operator who made the row; empty when the system did (a pull, a follower's upload, a deleted user)."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=verbose_name
    )


class Authored(models.Model):
    """A row an operator creates and edits: its author and its timestamps."""

    created_by = author_field(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Uploaded(Authored):
    """A file an operator uploads to the library."""

    created_by = author_field(_("uploaded by"))

    class Meta:
        abstract = True


class Queued(models.Model):
    """A job an operator starts: when it was queued (its author is named per job: published by, started by)."""

    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)

    class Meta:
        abstract = True
