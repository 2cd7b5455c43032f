"""Settings: every setting from its variable, listed in .env.example; read plainly; nothing written at import."""

import re
from pathlib import Path

from tests.deploy_support import ROOT, embedded_env, run, run_django

SETTING_READ = re.compile(r"""\b(?:env(?:\.\w+)?|_text|_secret)\(\s*"([A-Z0-9_]+)\"""")
# A getattr on settings with a default: a setting that may be missing, its default far from settings.py.
SETTING_WITH_FALLBACK = re.compile(r"getattr\(\s*settings\s*,[^,()]+,")


def test_every_settings_variable_is_listed_in_env_example():
    read = set(SETTING_READ.findall((ROOT / "wxsite" / "settings.py").read_text()))
    listed = {line.split("=", 1)[0] for line in (ROOT / ".env.example").read_text().splitlines() if re.match(r"^[A-Z]", line)}
    assert len(read) > 30  # the pattern still finds the reads
    assert read - listed == set()


def test_no_module_reads_a_setting_with_a_fallback():
    offenders = [
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*.py")
        if not {".venv", "var"} & set(path.relative_to(ROOT).parts) and SETTING_WITH_FALLBACK.search(path.read_text())
    ]
    assert offenders == []


def test_settings_write_nothing_at_import(tmp_path):
    var_dir = tmp_path / "var"
    result = run_django("", {**embedded_env(), "WXSITE_VAR_DIR": str(var_dir)})
    assert result.returncode == 0, result.stderr
    assert not var_dir.exists()


def test_embedded_mode_without_generated_keys_asks_for_the_var_step(tmp_path):
    result = run_django("", {"WXSITE_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "python -m wxsite.var" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_var_step_creates_the_broker_folders(tmp_path):
    assert run(["-m", "wxsite.var"], {"WXSITE_VAR_DIR": str(tmp_path)}).returncode == 0
    broker = run_django(
        "from django.conf import settings; print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['data_folder_in'])",
        {"WXSITE_VAR_DIR": str(tmp_path)},
    )
    assert Path(broker.stdout.strip()).is_dir()
    assert (tmp_path / "celery" / "processed").is_dir()


def test_empty_variables_mean_their_defaults():
    env = {**embedded_env(), "CELERY_BROKER_URL": "", "WXSITE_VAR_DIR": "", "MEDIA_ROOT": "", "SITE_URL": ""}
    code = "from django.conf import settings; print(settings.CELERY_BROKER_URL, settings.VAR_DIR, settings.MEDIA_ROOT, settings.SITE_URL)"
    result = run_django(code, env)
    assert result.stdout.split() == ["filesystem://", str(ROOT / "var"), str(ROOT / "var" / "media"), "http://127.0.0.1:8000"]
