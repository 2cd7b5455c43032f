"""Choosing media from the library where a media_id used to be typed: a picker widget and the check behind it.

A media_id the account's library does not hold (or that WeChat no longer has) is refused with a message that
says what to do, instead of being accepted and failing when the message is sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext as _

from .previews import preview
from .selectors import library_entry, materials_usable, temporary_media_usable

PICKER_LIMIT = 200


def library_refusal(*, account, media_id: str, kinds: Iterable[str], permanent_only: bool = False) -> str | None:
    """Why ``media_id`` cannot be used here (not in this account's library, or of another type); None when it can."""
    media_id = (media_id or "").strip()
    if not media_id:
        return None
    kinds = list(kinds)
    entry = library_entry(account=account, media_id=media_id)
    if entry is None or (permanent_only and entry._meta.model_name != "material"):
        where = _("permanent materials") if permanent_only else _("media library")
        return _(
            "“%(media_id)s” is not in this account's %(where)s (or was deleted on WeChat). "
            "Upload the file to the library or pull the library from WeChat, then choose it here."
        ) % {"media_id": media_id[:40], "where": where}
    if entry.kind not in kinds:
        return _("“%(name)s” is a %(kind)s; this needs: %(kinds)s.") % {
            "name": str(entry),
            "kind": entry.get_kind_display(),
            "kinds": ", ".join(kinds),
        }
    return None


def picker_entries(*, accounts, kinds: Iterable[str], permanent_only: bool = False) -> list:
    """What a picker offers: the accounts' usable materials (and temporary media unless ``permanent_only``)."""
    kinds = list(kinds)
    entries: list = []
    for account in accounts:
        entries += list(materials_usable(account=account, kinds=kinds).select_related("account")[:PICKER_LIMIT])
        if not permanent_only:
            entries += list(
                temporary_media_usable(account=account, kinds=kinds).exclude(media_id="").select_related("account")[:PICKER_LIMIT]
            )
    return entries


class MediaPickerWidget(forms.Widget):
    """A media_id input with the library beside it: thumbnails and players to click; the choice is previewed.

    ``entries`` is set by the form (the accounts it may show). Each choice carries its account and kind, so the
    page can narrow the list to the account and reply type chosen on the same form (media_picker.js).
    """

    template_name = "media_assets/widgets/media_picker.html"

    class Media:
        js = ["media_assets/media_picker.js"]

    def __init__(self, *, kinds: Iterable[str], multiple: bool = False, attrs=None):
        super().__init__(attrs)
        self.kinds = list(kinds)
        self.multiple = multiple
        self.entries: list = []

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        chosen = [v.strip() for v in str(value or "").splitlines() if v.strip()]
        by_id = {entry.media_id: entry for entry in self.entries}
        context["widget"].update(
            {
                "multiple": self.multiple,
                "kinds": " ".join(self.kinds),
                "current": [preview(by_id[media_id], size=80) for media_id in chosen if media_id in by_id],
                "choices": [
                    {
                        "media_id": entry.media_id,
                        "account": entry.account_id,
                        "kind": entry.kind,
                        "label": str(entry),
                        "preview": preview(entry, size=90),
                        "temporary": entry._meta.model_name == "temporarymedia",
                    }
                    for entry in self.entries
                ],
            }
        )
        return context


def picker_attach(field: forms.Field, *, accounts, kinds: Iterable[str], permanent_only: bool = False, multiple: bool = False):
    """Give ``field`` the library picker for the accounts' media of ``kinds``; returns the field."""
    widget = MediaPickerWidget(kinds=kinds, multiple=multiple)
    widget.entries = picker_entries(accounts=accounts, kinds=kinds, permanent_only=permanent_only)
    widget.is_required = field.required
    field.widget = widget
    return field
