"""Hypothesis profiles for the callback fuzz tests, and their example count in the terminal summary."""

import os
import sys
from datetime import timedelta

from hypothesis import HealthCheck, settings

# "ci" (the default) is deterministic, keeps no example database on disk and stays well under a minute;
# HYPOTHESIS_PROFILE=explore searches longer with fresh randomness.
settings.register_profile(
    "ci",
    max_examples=100,
    # WeChat gives up on a callback after 5 s; one example (request and side effects) must finish within that.
    deadline=timedelta(seconds=5),
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("explore", parent=settings.get_profile("ci"), max_examples=2000, derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter):
    fuzz = sys.modules.get("messaging.inbound.tests.test_callback_fuzz")
    cases = getattr(fuzz, "FUZZ_CASES", None)
    if not cases:
        return
    terminalreporter.section("callback fuzz")
    terminalreporter.write_line(f"{sum(cases.values())} requests sent to the callback")
    for label, count in sorted(cases.items()):
        terminalreporter.write_line(f"  {label}: {count}")
