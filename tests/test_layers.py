"""The import rule, checked on the source: layers point one way.

- Only the web layer (server/web, server/app.py) and the routes modules may import
  Litestar or server.web; services and the foundation know no HTTP framework.
- The foundation (server/core) imports no domain.
- No module defines `_ctx`: handlers receive the tenant and actor by injection.
- A routes module never imports another domain's routes.
- A domain reads another domain's data through that domain's service, never by
  importing its tables (tables.py may reference other tables for foreign keys). A
  domain's `bulk` module (its writes of many rows at once) is a service module: it
  writes its own tables, and other domains' through their services and bulk modules.
- What stands above the domains (the CLI, the demo seed, the scheduler, server/*.py)
  calls their services and bulk modules and imports no tables.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# a domain: a package with tables of its own, or the platform's (tenants and operators)
DOMAINS = sorted(
    p.name
    for p in (ROOT / "server").iterdir()
    if p.is_dir() and ((p / "piccolo_app.py").exists() or p.name == "platform")
)


def modules() -> list[Path]:
    found = sorted((ROOT / "server").rglob("*.py")) + sorted((ROOT / "tenants").rglob("*.py"))
    return [p for p in found if "static" not in p.parts]


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def is_routes(path: Path) -> bool:
    return path.name == "routes.py" or path.name.endswith("_routes.py")


def is_web(path: Path) -> bool:
    return rel(path).startswith("server/web/") or rel(path) == "server/app.py"


def domain_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    if parts[0] == "tenants":
        return "tenants"
    return parts[1] if len(parts) > 2 and parts[1] in DOMAINS else None


def test_the_domains_are_found():
    assert {"units", "responsibility", "training", "assessment", "reminders", "accounts", "audit"} <= set(DOMAINS)


@pytest.mark.parametrize("path", [p for p in modules() if not is_web(p) and not is_routes(p)], ids=rel)
def test_only_the_web_layer_knows_litestar(path):
    wrong = sorted(n for n in imports(path) if n.split(".")[0] == "litestar" or n.startswith("server.web"))
    assert not wrong, f"{rel(path)} imports {wrong}"


@pytest.mark.parametrize("path", sorted((ROOT / "server" / "core").glob("*.py")), ids=rel)
def test_the_foundation_imports_no_domain(path):
    wrong = sorted(n for n in imports(path) if n.startswith("server.") and not n.startswith("server.core"))
    wrong += sorted(n for n in imports(path) if n.startswith("tenants"))
    assert not wrong or set(wrong) <= {"server.settings", "server.settings.ROOT"}, f"{rel(path)} imports {wrong}"


@pytest.mark.parametrize("path", modules(), ids=rel)
def test_no_context_helper(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name == "_ctx"]


@pytest.mark.parametrize("path", [p for p in modules() if is_routes(p)], ids=rel)
def test_routes_never_import_another_domains_routes(path):
    own = domain_of(path)
    wrong = []
    for name in imports(path):
        parts = name.split(".")
        for i, part in enumerate(parts):
            if (part == "routes" or part.endswith("_routes")) and i >= 2 and parts[1] != own:
                wrong.append(name)
    assert not wrong, f"{rel(path)} imports {sorted(wrong)}"


@pytest.mark.parametrize("path", [p for p in modules() if is_routes(p)], ids=rel)
def test_routes_read_no_tables(path):
    wrong = sorted(n for n in imports(path) if ".tables" in n)
    assert not wrong, f"{rel(path)} imports {wrong}: a route calls a service"


@pytest.mark.parametrize("path", [p for p in modules() if domain_of(p) and p.name != "tables.py"], ids=rel)
def test_a_domain_reads_another_only_through_its_service(path):
    own = domain_of(path)
    wrong = []
    for name in imports(path):
        parts = name.split(".")
        if parts[0] == "server" and len(parts) >= 3 and parts[2] == "tables" and parts[1] != own:
            wrong.append(name)
        if parts[0] == "tenants" and len(parts) >= 2 and parts[1] == "tables" and own != "tenants":
            wrong.append(name)
    assert not wrong, f"{rel(path)} reads another domain's tables: {sorted(set(wrong))}"


@pytest.mark.parametrize("path", sorted((ROOT / "server").glob("*.py")), ids=rel)
def test_what_stands_above_the_domains_reads_no_tables(path):
    wrong = sorted(n for n in imports(path) if ".tables" in n)
    assert not wrong, f"{rel(path)} imports {wrong}: it calls a domain's service or bulk module"
