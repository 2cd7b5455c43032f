import pytest

from .factories import cover_material


@pytest.fixture
def cover(account, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return cover_material(account)
