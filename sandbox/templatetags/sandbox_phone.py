"""How the simulator's phone shows a message: WeChat renders <a href> in text messages as a link."""

import re

from django import template
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

register = template.Library()

_ANCHOR = re.compile(r"<a\s([^>]*)>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"""href\s*=\s*["']([^"']*)["']""", re.IGNORECASE)


@register.filter
def wechat_text(value) -> str:
    """Escape a text message, turning its ``<a href="http…">label</a>`` into links, as the WeChat client does."""
    text = str(value or "")
    parts, last = [], 0
    for match in _ANCHOR.finditer(text):
        parts.append(conditional_escape(text[last : match.start()]))
        href = _HREF.search(match.group(1))
        label = match.group(2)
        if href and href.group(1).lower().startswith(("http://", "https://")):
            parts.append(format_html('<a href="{}" target="_blank" rel="noopener noreferrer">{}</a>', href.group(1), label))
        else:  # a mini program link or a bad URL: its label, as the phone shows it
            parts.append(format_html('<a class="mp-link">{}</a>', label))
        last = match.end()
    parts.append(conditional_escape(text[last:]))
    return mark_safe("".join(str(p) for p in parts))  # noqa: S308  every part is escaped above
