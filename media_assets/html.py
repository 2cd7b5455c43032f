"""Article HTML: what an operator may write, the one sanitizer (nh3) and the images it names.

WeChat strips scripts and external images from article content (API.md §5). The form refuses markup that would
run code (``forbidden_markup``) with a message naming it, and every save goes through ``sanitize`` as well.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import nh3

TAGS = {
    "p", "br", "span", "strong", "b", "em", "i", "u", "s", "sub", "sup", "blockquote", "h1", "h2", "h3", "h4",
    "ul", "ol", "li", "a", "img", "figure", "figcaption", "hr", "pre", "code", "section", "table", "thead", "tbody",
    "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {
    "*": {"style"},
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "data-src"},
    "ol": {"start", "type"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = {"http", "https"}
# Tags whose content is dropped with them, not kept as text.
CLEAN_CONTENT_TAGS = {"script", "style", "iframe", "object", "embed", "noscript", "template"}
FORBIDDEN_TAGS = ("script", "iframe", "object", "embed", "frame", "frameset", "form", "style", "link", "meta", "base")

_cleaner = nh3.Cleaner(
    tags=TAGS,
    attributes=ATTRIBUTES,
    url_schemes=URL_SCHEMES,
    clean_content_tags=CLEAN_CONTENT_TAGS,
    link_rel="noopener noreferrer",
    strip_comments=True,
)


def sanitize(html: str) -> str:
    """The content as it is stored and sent: allowed tags and attributes only, no scripts, http(s) links only."""
    cleaned = _cleaner.clean(html or "")
    return "" if re.fullmatch(r"\s*(<p>\s*(<br>)?\s*</p>)?\s*", cleaned) else cleaned


class _Finder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{name}=")
            elif name in ("href", "src") and (value or "").strip().lower().startswith(("javascript:", "vbscript:", "data:text")):
                self.found.append(f'{name}="{value.split(":", 1)[0]}:…"')
        if tag == "img":
            src = dict(attrs).get("src")
            if src:
                self.images.append(src)

    handle_startendtag = handle_starttag


def forbidden_markup(html: str) -> list[str]:
    """The script-capable markup in ``html`` (tags such as <script> and <iframe>, on* attributes, javascript: URLs)."""
    finder = _Finder()
    finder.feed(html or "")
    finder.close()
    return list(dict.fromkeys(finder.found))


def image_sources(html: str) -> list[str]:
    """The ``src`` of every image, in order, each once."""
    finder = _Finder()
    finder.feed(html or "")
    finder.close()
    return list(dict.fromkeys(finder.images))


def text_length(html: str) -> int:
    return len(re.sub(r"<[^>]+>", "", html or "").strip())


def replace_image_sources(html: str, replacements: dict[str, str]) -> str:
    """``html`` with each image ``src`` found in ``replacements`` changed to its value."""
    if not replacements:
        return html

    def swap(match: re.Match) -> str:
        quote, src = match.group(1), match.group(2)

        new = replacements.get(unescape(src))
        return f"src={quote}{new}{quote}" if new else match.group(0)

    return re.sub(r"""src=(["'])(.*?)\1""", swap, html)
