"""Every feature package has the same inside, so a reader finds the same things in the same places."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FEATURES = [
    "followers",
    "media_assets",
    "messaging/inbound",
    "messaging/autoreply",
    "messaging/kefu",
    "messaging/templatemsg",
    "messaging/mass",
    "menus",
    "qrcodes",
]
# A module, or a folder of modules once it grew.
PARTS = ["models", "services", "selectors", "tasks", "receivers", "admin"]
# Packages with a REST API keep it in api/ (urls.py included from wxsite/api_urls.py).
WITH_API = ["messaging/templatemsg", "messaging/mass"]


@pytest.mark.parametrize("package", FEATURES)
def test_a_feature_package_has_the_common_file_set(package):
    base = ROOT / package
    missing = [p for p in PARTS if not (base / f"{p}.py").is_file() and not (base / p / "__init__.py").is_file()]
    missing += [t for t in ("tests/__init__.py", "tests/factories.py") if not (base / t).is_file()]
    assert missing == []


def test_rest_apis_live_in_their_packages_api_folder():
    urls = (ROOT / "wxsite" / "api_urls.py").read_text()
    for package in WITH_API:
        assert (ROOT / package / "api" / "urls.py").is_file()
        assert f'include("{package.replace("/", ".")}.api.urls")' in urls
