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
- No module uses another module's private names (a leading underscore): what is shared
  is public, and lives where both may import it (server/documents, server/core).
- No import cycle between domains: a domain that another one reads tells it of a change
  by an event (server/events.py), never by importing it back.
"""

from __future__ import annotations

import ast
from collections import defaultdict
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


PROJECT = ("server", "tenants")


def module_names(tree: ast.AST) -> dict[str, str]:
    """The local names that stand for a project module, and the module."""
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            full = {alias.asname or alias.name: f"{node.module}.{alias.name}" for alias in node.names}
            found |= {local: name for local, name in full.items() if is_module(name)}
        elif isinstance(node, ast.Import):
            found |= {alias.asname: alias.name for alias in node.names if alias.asname and is_module(alias.name)}
    return found


def private_uses(path: Path) -> set[str]:
    """Another module's private names this module imports or reads (`module._name`);
    gettext's `_` and `_l` are public."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    used = {n for n in imports(path) if n.split(".")[0] in PROJECT and is_private(n.rsplit(".", 1)[-1])}
    names = module_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in names:
            used |= {f"{names[node.value.id]}.{node.attr}"} if is_private(node.attr) else set()
    return used


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__") and name not in ("_", "_l")


def is_module(dotted: str) -> bool:
    """Whether the dotted name is a module of the project's."""
    if dotted.split(".")[0] not in PROJECT:
        return False
    path = ROOT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


@pytest.mark.parametrize("path", modules(), ids=rel)
def test_no_module_uses_another_modules_private_names(path):
    assert not private_uses(path), f"{rel(path)} uses {sorted(private_uses(path))}"


def domain_named(name: str) -> str | None:
    """The domain an imported name belongs to."""
    parts = name.split(".")
    if parts[0] == "tenants":
        return "tenants"
    return parts[1] if parts[0] == "server" and len(parts) > 1 and parts[1] in DOMAINS else None


def domain_graph() -> dict[str, dict[str, set[str]]]:
    """domain -> the domains its modules import -> which modules. Routes modules stand
    above every service (they may call any domain's), so they are not part of it."""
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in modules():
        own = domain_of(path)
        if own is None or is_routes(path):
            continue
        for name in imports(path):
            other = domain_named(name)
            if other not in (None, own):
                graph[own][other].add(rel(path))
    return graph


def a_cycle(graph: dict[str, dict[str, set[str]]]) -> list[str]:
    """Domains that import one another round in a circle (the first found), or []."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once every way out is seen
    path: list[str] = []

    def visit(domain: str) -> list[str]:
        state[domain] = "open"
        path.append(domain)
        for other in sorted(graph[domain]):
            if state.get(other) == "open":
                return [*path[path.index(other) :], other]
            if other not in state and (found := visit(other)):
                return found
        path.pop()
        state[domain] = "done"
        return []

    for domain in sorted(graph):
        if domain not in state and (found := visit(domain)):
            return found
    return []


def test_no_import_cycle_between_domains():
    graph = domain_graph()
    cycle = a_cycle(graph)
    how = [f"{a} -> {b}: {sorted(graph[a][b])}" for a, b in zip(cycle, cycle[1:], strict=False)]
    assert not cycle, "the domains import one another in a circle:\n" + "\n".join(how)


def test_the_cycle_finder_finds_one():
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    graph["a"]["b"].add("a.py")
    graph["b"]["c"].add("b.py")
    assert a_cycle(graph) == []
    graph["c"]["b"].add("c.py")
    assert a_cycle(graph) == ["b", "c", "b"]
