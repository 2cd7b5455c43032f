from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language


@require_POST
def set_language(request):
    """Django's language switch, reading the page it returns to in that page's own language.

    Django resolves ``next`` (or the referring page) in the request's language, which for /i18n/ comes from the
    cookie or the browser, not from the page: from /en/admin/ with a Chinese browser, /en/admin/ does not resolve
    under Chinese (which has no prefix) and the operator was sent back to the English page.
    """
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    page_language = translation.get_language_from_path(urlsplit(target).path) or settings.LANGUAGE_CODE
    with translation.override(page_language):
        return django_set_language(request)
