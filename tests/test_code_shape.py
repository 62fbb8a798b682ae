"""Small functions (STYLE.md): no function of the application runs over MAX_LINES lines.

A function's lines run from its first decorator to its last line, docstring included, as a
reader scrolls through it. Migrations are scripts, not application code.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APPLICATION = ("gateway", "planner", "schema", "tenants", "rollout", "adoption", "db")
MAX_LINES = 40


# Functions allowed over the limit for now, each with its reason; an entry must still be needed.
def long_functions(source: str, where: str, limit: int = MAX_LINES) -> dict[str, int]:
    """``where:line name`` → lines, for every function (or method) longer than ``limit``."""
    found = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            lines = (node.end_lineno or node.lineno) - first + 1
            if lines > limit:
                found[f"{where}:{node.lineno} {node.name}"] = lines
    return found


def test_the_check_finds_a_long_method_and_passes_a_short_one():
    # given: a decorated method of 41 lines and a function of 3
    body = "\n".join(f"        x{i} = {i}" for i in range(39))
    source = f"class A:\n    @staticmethod\n    def long():\n{body}\n\ndef short():\n    return 1\n"
    # when / then
    assert long_functions(source, "planted.py") == {"planted.py:3 long": 41}


def test_a_function_of_exactly_the_limit_passes():
    # given: a function of 40 lines, signature to last line
    body = "\n".join(f"    x{i} = {i}" for i in range(39))
    # when / then
    assert long_functions(f"def fits():\n{body}\n", "planted.py") == {}


def test_no_application_function_is_over_the_limit():
    # given: every application module, found on disk
    paths = [
        p
        for package in APPLICATION
        for p in (ROOT / package).rglob("*.py")
        if "migrations" not in p.parts
    ]
    # when
    offenders: dict[str, int] = {}
    for path in paths:
        source = path.read_text(encoding="utf-8")
        offenders |= long_functions(source, str(path.relative_to(ROOT)))
    # then: split any function listed here
    assert len(paths) > 100
    assert offenders == {}
