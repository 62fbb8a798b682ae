"""Dependencies point down: no lower layer imports a higher one (STYLE.md, DESIGN.md)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package → the packages above it or beside it, which it must never import
ABOVE = {
    "schema": {"gateway"},
    "rollout": {"gateway", "schema", "adoption"},
    "adoption": {"gateway", "schema", "rollout"},
    "tenants": {"gateway", "schema", "rollout", "adoption"},
    "db": {"gateway", "schema", "rollout", "tenants", "adoption"},
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


def test_db_is_the_lowest_layer():
    # given: every other layer
    others = set(ABOVE) - {"db"} | {"gateway"}
    # when / then: db may import none of them
    assert ABOVE["db"] == others
