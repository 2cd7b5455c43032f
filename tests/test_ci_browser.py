"""On CI (CI=true) a missing browser fails the browser tests; elsewhere they are skipped."""

import pytest

import conftest


def test_browser_tests_are_not_skipped_on_ci_without_chromium():
    marks = conftest.browser_marks(chromium_present=False, ci=True)
    skip = next(mark for mark in marks if mark.name == "skipif")
    assert skip.args == (False,)


def test_browser_tests_are_skipped_without_chromium_off_ci():
    marks = conftest.browser_marks(chromium_present=False, ci=False)
    skip = next(mark for mark in marks if mark.name == "skipif")
    assert skip.args == (True,)


def test_browser_page_fails_when_chromium_is_missing(request, monkeypatch, tmp_path):
    monkeypatch.setattr(conftest, "CHROMIUM", str(tmp_path / "chromium"))
    with pytest.raises(pytest.fail.Exception, match="browser tests need Debian's chromium"):
        request.getfixturevalue("browser_page")
