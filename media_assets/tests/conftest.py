import pytest


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Files go to a fresh directory per test, not var/media."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
