"""Log formatters that keep the ``extra={...}`` fields of structured log calls (LOG_FORMAT=text|json)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


def record_extras(record: logging.LogRecord) -> dict:
    return {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRS and not key.startswith("_")}


class TextFormatter(logging.Formatter):
    """``time level logger message key=value ...``; values are shown with repr() when they contain spaces."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        extras = record_extras(record)
        if not extras:
            return line
        first, newline, rest = line.partition("\n")  # keep a traceback below the fields
        fields = " ".join(f"{key}={_text_value(value)}" for key, value in extras.items())
        return f"{first} {fields}{newline}{rest}"


def _text_value(value) -> str:
    text = str(value)
    return repr(text) if not text or any(ch.isspace() or ch in "='\"" for ch in text) else text


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, every extra field, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_extras(record).items():
            entry[f"extra_{key}" if key in entry else key] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)
