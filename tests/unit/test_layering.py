"""The layout is the architecture: each folder imports only what its layer may (docs/architecture.md).

- `rules/` (the engine core and the partner SDK) names no family and imports no adapter: nothing of `plugins`,
  `infra`, `api`, `events`, pynamodb, boto3, botocore or strawberry.
- `plugins/<family>/`: its pure part (plugin, model, effects, hooks, declaration) imports the core only; its
  `storage` may add `infra`, its `graphql` may add `api`. Another family only through that family's declared
  `effects` module.
- `infra/` and `api/` name no family; `infra/` never imports `api` (but the local tools, `infra/cli.py` and
  `infra/local.py`, which issue tokens and serve the app) or `events`; nothing imports `events`.
- No import circle between modules, and no `_private` name imported across modules.

Read from the source (every import, including those inside functions), so a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("rules", "plugins", "infra", "api", "events")
ADAPTER_LIBRARIES = ("pynamodb", "boto3", "botocore", "strawberry", "mangum", "starlette")
PURE_PARTS = ("__init__", "plugin", "model", "effects", "hooks")
LOCAL_TOOLS = ("infra.cli", "infra.local")  # composition roots of their own: the CLI and the local stack


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


SOURCES = {module_name(p): p for layer in LAYERS for p in sorted((ROOT / layer).rglob("*.py"))
           if "__pycache__" not in p.parts}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import in the file, outside `if TYPE_CHECKING:` blocks."""
    tree = ast.parse(path.read_text())
    found: list[tuple[str, list[str]]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, []) for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module, [alias.name for alias in child.names]))
            visit(child)

    visit(tree)
    return found


def targets(module: str, names: list[str]) -> set[str]:
    """The project modules an import reaches: `from plugins.coupons import model` reaches the submodule."""
    reached = {module} if module in SOURCES else set()
    reached |= {f"{module}.{name}" for name in names if f"{module}.{name}" in SOURCES}
    return reached or ({module} if module.split(".")[0] in LAYERS else set())


def family_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "plugins" and len(parts) > 1 else None


def test_the_core_names_no_family_and_imports_no_adapter():
    for module, path in SOURCES.items():
        if not module.startswith("rules"):
            continue
        for imported, _ in imports(path):
            top = imported.split(".")[0]
            assert top not in ("plugins", "infra", "api", "events"), f"{module} imports {imported}"
            assert top not in ADAPTER_LIBRARIES, f"{module} imports {imported}"


@pytest.mark.parametrize("family", sorted({family_of(m) for m in SOURCES if family_of(m)}))
def test_a_family_imports_the_core_and_reaches_another_family_only_through_its_declared_effects(family):
    for module, path in SOURCES.items():
        if family_of(module) != family:
            continue
        part = module.split(".")[-1] if module.count(".") >= 2 else "__init__"
        for imported, names in imports(path):
            top = imported.split(".")[0]
            other = family_of(imported)
            if other is not None and other != family:
                assert imported == f"plugins.{other}.effects", f"{module} imports {imported}"
            if part in PURE_PARTS:
                assert top not in ("infra", "api", "events") and top not in ADAPTER_LIBRARIES, \
                    f"the pure part {module} imports {imported}"
            if part == "storage":
                assert top not in ("api", "events", "strawberry"), f"{module} imports {imported}"
            if part == "graphql":
                assert top not in ("infra", "events", "pynamodb", "boto3"), f"{module} imports {imported}"


def test_the_adapters_name_no_family_and_nothing_imports_the_composition_root():
    for module, path in SOURCES.items():
        for imported, _ in imports(path):
            top = imported.split(".")[0]
            if module.startswith(("infra", "api")):
                assert top != "plugins", f"{module} imports {imported}"
            if module.startswith("infra") and module not in LOCAL_TOOLS:
                assert top != "api", f"{module} imports {imported}"
            if not module.startswith("events"):
                assert top != "events", f"{module} imports {imported}"


def test_no_private_name_is_imported_across_modules():
    for module, path in SOURCES.items():
        for imported, names in imports(path):
            if imported.split(".")[0] in LAYERS:
                private = [n for n in names if n.startswith("_")]
                assert not private, f"{module} imports {private} from {imported}"


def test_there_is_no_import_circle():
    graph = {module: set().union(*(targets(i, n) for i, n in imports(path))) - {module}
             for module, path in SOURCES.items()}
    # A package's __init__ is imported with any of its modules: an edge to the package is an edge to it.
    seen: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def walk(module: str) -> None:
        seen[module] = 1
        stack.append(module)
        for nxt in sorted(graph.get(module, ())):
            if nxt not in graph:
                continue
            if seen.get(nxt) == 1:
                circle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import circle: " + " -> ".join(circle))
            if nxt not in seen:
                walk(nxt)
        stack.pop()
        seen[module] = 2

    for module in sorted(graph):
        if module not in seen:
            walk(module)
