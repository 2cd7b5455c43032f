"""Content negotiation for the REST API, including the language of its messages."""

from django.utils import translation
from rest_framework.negotiation import DefaultContentNegotiation


class LanguageNegotiation(DefaultContentNegotiation):
    """Messages in the language of Accept-Language (or the language cookie), zh-hans when neither names one.

    The site's LocaleMiddleware gives every unprefixed path the default language (the admin's i18n_patterns
    leave the default unprefixed), which would make API errors Chinese for every client. DRF negotiates
    before authentication and permissions, so every message of the request, 401 and 403 included, follows.
    """

    def select_renderer(self, request, renderers, format_suffix=None):
        language = translation.get_language_from_request(request._request, check_path=False)
        translation.activate(language)
        request._request.LANGUAGE_CODE = translation.get_language()
        return super().select_renderer(request, renderers, format_suffix)
