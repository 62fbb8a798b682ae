"""Audit: every error code the code base can send is a row of docs/ERRORS.md."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("gateway", "schema", "tenants", "rollout")
CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$|^[A-Z]{4,}$")
# Calls whose first string argument is an error code sent to clients.
REFUSALS = frozenset(
    {
        "PilotGraphError",
        "error_response",
        "send_error",
        "EdgeRefusal",
        "QueryRefused",
        "PersistedRefused",
        "Invalid",
        "_request_error",
        "Unexpected",
    }
)
# Root classes of each package's exceptions: never raised themselves, their subclasses carry
# the codes clients see.
ROOT_CODES = frozenset({"TENANTS_ERROR", "ROLLOUT_ERROR", "ADOPTION_ERROR"})


def _name(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else ""


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "VALUE"`` strings, to resolve codes passed by name."""
    found: dict[str, str] = {}
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant):
            for target in statement.targets:
                if isinstance(target, ast.Name) and isinstance(statement.value.value, str):
                    found[target.id] = statement.value.value
    return found


def _strings(node: ast.AST, constants: dict[str, str]) -> set[str]:
    """Codes a code-position expression can take: literals, named constants, conditionals."""
    found: set[str] = set()
    for inner in ast.walk(node):
        if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
            found.add(inner.value)
        elif isinstance(inner, ast.Name) and inner.id in constants:
            found.add(constants[inner.id])
    return {value for value in found if CODE.match(value)}


def _codes_in(tree: ast.Module) -> set[str]:
    constants = _constants(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _name(node.func) in REFUSALS:
            for argument in node.args[:2]:
                found |= _strings(argument, constants)
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign):
                    targets = [_name(t) for t in statement.targets]
                    if node.name.endswith("ErrorCode") or "code" in targets:
                        found |= _strings(statement.value, constants)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "code":
                    found |= _strings(value, constants)
    return found


def codes_in_source() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found |= _codes_in(ast.parse(path.read_text(encoding="utf-8")))
    return found - ROOT_CODES


def documented_codes() -> set[str]:
    text = (ROOT / "docs" / "ERRORS.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([A-Z0-9_]+)` \|", text, flags=re.MULTILINE))


def test_every_error_code_is_documented():
    # given
    in_source = codes_in_source()
    # when
    missing = sorted(in_source - documented_codes())
    # then
    assert len(in_source) > 40
    assert missing == [], f"add rows to docs/ERRORS.md for {missing}"


def test_the_audit_finds_the_edge_codes():
    # when
    in_source = codes_in_source()
    # then
    assert {
        "QUERY_TOO_DEEP",
        "RATE_LIMITED",
        "OPERATION_NOT_ALLOWED",
        "FORBIDDEN_TENANT",
        "SERVICE_UNAVAILABLE",
        "INTERNAL_SERVER_ERROR",
        "INVALID_ID",
    } <= in_source
