"""accounts sits below followers: no production module of accounts imports followers."""

import ast
from pathlib import Path

ACCOUNTS = Path(__file__).resolve().parents[2] / "accounts"


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


def test_accounts_never_imports_followers():
    offenders = {
        str(path.relative_to(ACCOUNTS.parent)): sorted(m for m in _imported_modules(path) if m.split(".")[0] == "followers")
        for path in ACCOUNTS.rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    }
    assert {path: mods for path, mods in offenders.items() if mods} == {}
