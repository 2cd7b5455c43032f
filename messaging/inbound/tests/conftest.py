"""Hypothesis profiles for the callback fuzz tests (the root conftest prints how many requests they sent)."""

import os
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
