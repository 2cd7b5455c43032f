"""JSON bodies for the REST API, refusing nesting deeper than any endpoint takes."""

from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def json_depth_exceeds(value, limit: int) -> bool:
    """True if containers nest deeper than ``limit``; iterative, so a deep value cannot exhaust the stack."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, but a body nested too deep is a 400, not a RecursionError (500) here or later."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(_("JSON parse error - nested too deep.")) from None
        if json_depth_exceeds(data, MAX_DEPTH):
            raise ParseError(_("JSON parse error - nested deeper than %(limit)d levels.") % {"limit": MAX_DEPTH})
        return data
