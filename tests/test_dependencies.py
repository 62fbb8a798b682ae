"""The application imports only what pyproject.toml declares, and only libraries' public names.

A transitive dependency imported directly breaks when another package drops it; a library's
underscore name changes without notice in a patch release. Both are checked on every module of the
application packages, found on disk (a new module is checked too).
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# The packages the wheel ships, as pyproject.toml lists them: a new package is checked too.
APPLICATION = tuple(
    pattern.rstrip("*")
    for pattern in tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "setuptools"
    ]["packages"]["find"]["include"]
)


def declared(root: Path = ROOT) -> set[str]:
    """The runtime dependencies of pyproject.toml, as canonical distribution names."""
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {canonicalize_name(Requirement(spec).name) for spec in project["dependencies"]}


def absolute_imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) of each absolute import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def third_party(module: str) -> bool:
    top = module.split(".")[0]
    return top not in sys.stdlib_module_names and top not in APPLICATION


def modules(root: Path) -> list[Path]:
    return sorted(p for package in APPLICATION for p in (root / package).rglob("*.py"))


def private_imports(root: Path = ROOT) -> list[str]:
    """``file:line module.name`` for each underscore module or name imported from a library."""
    found: list[str] = []
    for path in modules(root):
        for line, module, names in absolute_imports(path):
            if not third_party(module):
                continue
            dotted = [*module.split("."), *names]
            if any(part.startswith("_") and not part.startswith("__") for part in dotted):
                found.append(f"{path.relative_to(root)}:{line} {'.'.join(dotted)}")
    return found


def undeclared_imports(root: Path = ROOT) -> dict[str, set[str]]:
    """Distribution -> the files importing it, for each library pyproject.toml does not declare."""
    distributions = packages_distributions()
    allowed = declared(root)
    found: dict[str, set[str]] = {}
    for path in modules(root):
        for _, module, _ in absolute_imports(path):
            if not third_party(module):
                continue
            top = module.split(".")[0]
            owners = {canonicalize_name(d) for d in distributions.get(top, [top])}
            if owners.isdisjoint(allowed):
                found.setdefault(" or ".join(sorted(owners)), set()).add(
                    str(path.relative_to(root))
                )
    return found


def test_application_imports_no_private_names_of_libraries() -> None:
    # when every application module's imports are read
    found = private_imports()

    # then none names an underscore module or name of a third-party package
    assert found == []


def test_every_imported_library_is_a_declared_dependency() -> None:
    # when every application module's third-party imports are mapped to their distributions
    found = undeclared_imports()

    # then each is declared in [project.dependencies] (not only pulled in by another package)
    assert found == {}


def test_graphql_core_is_declared_because_the_edge_imports_it() -> None:
    # given the edge, which parses documents with graphql-core itself
    imports = {module for _, module, _ in absolute_imports(ROOT / "gateway/edge/documents.py")}

    # then graphql-core is a declared dependency in its own right
    assert any(module.startswith("graphql") for module in imports)
    assert "graphql-core" in declared()


@pytest.fixture
def planted_root(tmp_path: Path) -> Path:
    """pyproject.toml and one application module with a private and an undeclared import."""
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    for package in APPLICATION:
        (tmp_path / package).mkdir()
    (tmp_path / "gateway" / "planted.py").write_text(
        "from strawberry.schema.schema import _get_parse_cache\n"
        "import packaging.version\n"
        "from gateway.settings import Settings\n"
    )
    return tmp_path


def test_the_checks_catch_a_private_and_an_undeclared_import(planted_root: Path) -> None:
    # when the checks read the planted module
    private = private_imports(planted_root)
    undeclared = undeclared_imports(planted_root)

    # then the private name and the undeclared library are named, the first-party import is not
    assert private == ["gateway/planted.py:1 strawberry.schema.schema._get_parse_cache"]
    assert undeclared == {"packaging": {"gateway/planted.py"}}
