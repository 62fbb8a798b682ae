"""Dependencies point down: no lower layer imports a higher one (STYLE.md, DESIGN.md)."""

from __future__ import annotations

import ast
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package → the packages above it or beside it, which it must never import
ABOVE = {
    "planner": {"gateway"},
    "schema": {"gateway", "planner"},
    "rollout": {"gateway", "planner", "schema", "adoption"},
    "adoption": {"gateway", "planner", "schema", "rollout"},
    "tenants": {"gateway", "planner", "schema", "rollout", "adoption"},
    "db": {"gateway", "planner", "schema", "rollout", "tenants", "adoption"},
}
# Adoption implements rollout's KPI protocol: the one module of a sibling a package may import.
ALLOWED = {"adoption": {"rollout.kpi"}}


def _imports(path: Path, allowed: set[str]) -> set[str]:
    """The top-level packages ``path`` imports, leaving out the ``allowed`` modules."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return {module.split(".")[0] for module in modules - allowed}


def _upward(package: str) -> dict[str, list[str]]:
    allowed = ALLOWED.get(package, set())
    modules = sorted((ROOT / package).rglob("*.py"))
    found = {str(m.relative_to(ROOT)): _imports(m, allowed) & ABOVE[package] for m in modules}
    return {module: sorted(names) for module, names in found.items() if names}


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_a_layer_imports_nothing_above_it(package):
    # given: every module of the package, found on disk (a new module is checked too)
    # when
    upward = _upward(package)
    # then
    assert upward == {}


def test_rollout_sees_adoption_only_through_the_kpi_protocol(tmp_path, monkeypatch):
    # given: a rollout module that imports adoption, as rollout once did for its KPIs
    planted = tmp_path / "rollout" / "planted.py"
    planted.parent.mkdir()
    planted.write_text("def kpi_source():\n    from adoption import kpi_source\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    # when
    upward = _upward("rollout")
    # then
    assert upward == {"rollout/planted.py": ["adoption"]}


def test_adoption_may_import_rollouts_kpi_protocol_and_nothing_else_of_rollout(
    tmp_path, monkeypatch
):
    # given
    package = tmp_path / "adoption"
    package.mkdir()
    (package / "source.py").write_text("from rollout.kpi import KpiSource\n")
    (package / "plans.py").write_text("from rollout import plans\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    # when
    upward = _upward("adoption")
    # then
    assert upward == {"adoption/plans.py": ["rollout"]}


def test_every_installed_package_has_its_place_in_the_layers():
    # given: the packages the project installs (pyproject), gateway on top of them all
    find = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    installed = {
        name.rstrip("*") for name in find["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    # when
    placed = set(ABOVE) | {"gateway"}
    # then
    assert installed == placed


# Rollout and adoption read tenants through its read models, never through its ORM models.
TENANT_MODELS = {"tenants.models", "tenants.handbook.models"}
READ_THROUGH_READ_MODELS = ("rollout", "adoption")


def _model_imports(package: str) -> dict[str, list[str]]:
    """The modules of ``package`` that import tenants' ORM models, with what they import."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        imported = _imported_names(path) & TENANT_MODELS
        if imported:
            found[str(path.relative_to(ROOT))] = sorted(imported)
    return found


def _imported_names(path: Path) -> set[str]:
    """Every absolute module name ``path`` imports, with ``from pkg import module`` spelled out."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


@pytest.mark.parametrize("package", READ_THROUGH_READ_MODELS)
def test_a_domain_reads_tenants_only_through_its_read_models(package):
    # given: every module of the package, found on disk
    # when
    imports = _model_imports(package)
    # then
    assert imports == {}


@pytest.mark.parametrize(
    "source",
    [
        "from tenants.models import Tenant\n",
        "def members():\n    from tenants.handbook.models import Member\n",
        "import tenants.models\n",
        "from tenants.handbook import models\n",
    ],
)
def test_the_read_model_rule_sees_an_orm_import_planted_on_disk(tmp_path, monkeypatch, source):
    # given: an adoption module that reads tenants' ORM models, at the top or lazily
    planted = tmp_path / "adoption" / "planted.py"
    planted.parent.mkdir()
    planted.write_text(source)
    (tmp_path / "adoption" / "fine.py").write_text("from tenants.read_model import all_tenants\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    # when
    imports = _model_imports("adoption")
    # then
    assert list(imports) == ["adoption/planted.py"]


def test_db_is_the_lowest_layer():
    # given: every other layer
    others = set(ABOVE) - {"db"} | {"gateway"}
    # when / then: db may import none of them
    assert ABOVE["db"] == others


# The application's packages, whose modules must import one another without a cycle.
APPLICATION = ("gateway", "schema", "tenants", "rollout", "adoption", "db")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(path: Path, known: set[str]) -> set[str]:
    """The known modules a module imports, at the top, in a function or under TYPE_CHECKING."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `from pkg import name`: the module or pkg
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(packages: tuple[str, ...] = APPLICATION) -> dict[str, set[str]]:
    """Module → the application modules it imports (migrations are scripts, not modules)."""
    paths = {
        _module_name(p): p
        for package in packages
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts
    }
    known = set(paths)
    return {name: _imported_modules(path, known) for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every group of modules that import one another, directly or not (Tarjan's SCCs)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while (member := stack.pop()) != node:
                group.append(member)
            group.append(node)
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_cycle_check_finds_a_cycle_and_passes_a_chain():
    # given: a → b → c → a, and d → a apart from it
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    # when / then
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_import_graph_sees_a_cycle_planted_on_disk(tmp_path, monkeypatch):
    # given: a package whose two modules import each other, one of them lazily and relatively
    package = tmp_path / "planted"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "one.py").write_text("from planted.two import thing\n")
    (package / "two.py").write_text("def thing():\n    from . import one\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    # when
    found = cycles(import_graph(("planted",)))
    # then
    assert found == [["planted.one", "planted.two"]]


def test_the_application_has_no_import_cycle():
    # given: every module of the application, found on disk
    graph = import_graph()
    # when / then: a cycle would be listed here by its modules
    assert len(graph) > 100
    assert cycles(graph) == []
