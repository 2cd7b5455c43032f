"""Customer service reaches WeChat only through wechat.api.kf; the follower pages link to its thread without importing it."""

import ast
import re
from pathlib import Path

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
    raw = re.compile(r"""["'](cgi-bin/)?(message/custom|customservice/)""")
    found = [str(p.relative_to(ROOT)) for p in _production(KEFU) if raw.search(p.read_text(encoding="utf-8"))]
    assert found == []


def test_the_follower_pages_and_reads_never_import_messaging():
    # They link to the thread by URL name. (followers/receivers.py still listens to inbound's signal.)
    modules = [FOLLOWERS / "selectors.py", *(FOLLOWERS / "admin").rglob("*.py")]
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in _imported_modules(p) if m.split(".")[0] == "messaging") for p in modules
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}
