"""Customer service reaches WeChat only through wechat.api.kf; the follower pages link to its thread without importing it."""

import ast
import re
from pathlib import Path

from wechat.api.endpoints import Endpoint

ROOT = Path(__file__).resolve().parents[3]
KEFU = ROOT / "messaging" / "kefu"
FOLLOWERS = ROOT / "followers"
TRANSPORT = ("wechat.gateway", "wechat.http", "wechat.transport", "wechatpy", "requests")


def _production(package: Path):
    return [p for p in package.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_customer_service_imports_no_transport_to_wechat():
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imported_modules(p) if m.startswith(TRANSPORT)) for p in _production(KEFU)
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}


def test_customer_service_builds_no_endpoint_path():
    # The folders of customer service's endpoints (message/custom/, customservice/, customservice/kfaccount/), taken
    # from the endpoint table, with or without the common first folder: no literal may start with one.
    common = Endpoint.TOKEN.value.path.split("/")[0] + "/"
    folders = {
        endpoint.value.path.removeprefix(common).rsplit("/", 1)[0] + "/"
        for endpoint in Endpoint
        if endpoint.name.startswith(("CUSTOM_", "KF_"))
    }
    raw = re.compile(r"""["'](%s)?(%s)""" % (re.escape(common), "|".join(map(re.escape, sorted(folders)))))  # noqa: UP031
    assert raw.search(f'"{Endpoint.KF_ADD.value.path}"') and raw.search(f"'{Endpoint.CUSTOM_SEND.value.path}'")
    found = [str(p.relative_to(ROOT)) for p in _production(KEFU) if raw.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_follower_pages_and_reads_never_import_messaging():
    # They link to the thread by URL name. (followers/receivers.py still listens to inbound's signal.)
    modules = [FOLLOWERS / "selectors.py", *(FOLLOWERS / "admin").rglob("*.py")]
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imported_modules(p) if m.split(".")[0] == "messaging") for p in modules
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}
