"""Dependencies point down: no lower layer imports a higher one (STYLE.md, DESIGN.md)."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package → the packages above it, which it must never import
ABOVE = {
    "schema": {"gateway"},
    "rollout": {"gateway", "schema"},
    "tenants": {"gateway", "schema", "rollout"},
    "db": {"gateway", "schema", "rollout", "tenants"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(ABOVE))
def test_a_layer_imports_nothing_above_it(package):
    # given: every module of the package, found on disk (a new module is checked too)
    modules = sorted((ROOT / package).rglob("*.py"))
    # when
    upward = {
        str(m.relative_to(ROOT)): sorted(_imports(m) & ABOVE[package])
        for m in modules
        if _imports(m) & ABOVE[package]
    }
    # then
    assert upward == {}


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
