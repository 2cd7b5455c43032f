"""Structured logs: the extra={...} fields of a log call reach the output in both formats (LOG_FORMAT)."""

import json

from tests.deploy_support import embedded_env, run_django

LOG_CALL = (
    "import logging\n"
    "logging.getLogger('messaging.mass').info('mass_send.batch_sent', extra={'batch_id': 7, 'appid': 'wx1234567890abcdef'})\n"
)


def test_json_log_lines_carry_every_extra_field():
    result = run_django(LOG_CALL, {**embedded_env(), "LOG_FORMAT": "json"})
    entry = json.loads(result.stderr.strip().splitlines()[-1])
    assert entry["message"] == "mass_send.batch_sent" and entry["level"] == "INFO" and entry["logger"] == "messaging.mass"
    assert entry["batch_id"] == 7 and entry["appid"] == "wx1234567890abcdef"


def test_text_log_lines_show_extra_fields():
    result = run_django(LOG_CALL, {**embedded_env(), "LOG_FORMAT": "text"})
    line = result.stderr.strip().splitlines()[-1]
    assert line.endswith("INFO messaging.mass mass_send.batch_sent batch_id=7 appid=wx1234567890abcdef")


def test_unknown_log_format_is_refused():
    result = run_django("", {**embedded_env(), "LOG_FORMAT": "xml"})
    assert result.returncode != 0 and "LOG_FORMAT must be 'text' or 'json'" in result.stderr
