"""Generated documents, reshaped: fragments, aliases, repeated nesting, unicode, huge literals,
variables of the wrong type, and plain garbage. Never a 5xx, an uncoded error, or a leak."""

from __future__ import annotations

import re

from hypothesis import strategies as st

from tests.security import principals, world
from tests.security.checks import Finding
from tests.security.fuzzing import hold
from tests.security.operations import operations
from tests.security.probes import attempt, authorised, foreign
from tests.security.transport import Request

EXAMPLES = 150
BODY = re.compile(r"^(query|mutation|subscription) \{ (.*) \}$", re.S)
weird = st.one_of(st.text(max_size=40), st.just("\u202e\u0000\ud7ff" * 3), st.just("é" * 100_000))


def _fragment(doc: str, _: object) -> str:
    match = BODY.match(doc)
    if not match or match[1] != "query":
        return doc
    return f"query {{ ...F }} fragment F on Query {{ {match[2]} }}"


def _alias(doc: str, _: object) -> str:
    return re.sub(r"\{ (\w+)", r"{ x1: \1", doc, count=1)


def _twice(doc: str, _: object) -> str:
    match = BODY.match(doc)
    return f"{match[1]} {{ {match[2]} again: {match[2]} }}" if match else doc


def _unicode(doc: str, text: object) -> str:
    return re.sub(
        r'"[^"]*"', lambda _: '"' + str(text).replace("\\", "").replace('"', "") + '"', doc
    )


def _huge(doc: str, number: object) -> str:
    return re.sub(r"\b\d+(\.\d+)?\b", str(number), doc)


def _garbage(_doc: str, text: object) -> str:
    return str(text)


SHAPES = [_fragment, _alias, _twice, _unicode, _huge, _garbage]
literals = st.one_of(weird, st.integers(), st.sampled_from([10**30, -(10**30), 2**63, 1e308]))


def documents() -> st.SearchStrategy[tuple]:
    callers = [c for c in principals.callers() if c.home in ("yen-mo", None)]
    shapes = st.lists(st.tuples(st.sampled_from(SHAPES), literals), min_size=1, max_size=3)
    kinds = st.sampled_from(["query", "mutation"])
    return st.tuples(
        st.sampled_from(callers),
        st.integers(min_value=0, max_value=len(world.TENANTS)),  # which foreign tenant
        kinds,
        st.integers(min_value=0, max_value=40),
        shapes,
    )


async def _check(arena, drawn: tuple) -> list[Finding]:
    caller, which, kind, index, shapes = drawn
    others = foreign(caller, arena.truth.province_of)
    slug = others[which % len(others)]
    ops = operations(kind, arena.target(slug))
    op = ops[index % len(ops)]
    text = op.text
    for shape, literal in shapes:
        text = shape(text, literal)
    variables = {"v": str(shapes[0][1])[:1000]}
    request = Request(
        "POST", "/graphql", authorised(arena, caller, {}), {"query": text, "variables": variables}
    )
    return await attempt(arena, caller, f"document {op.field}", request)


async def test_no_document_shape_breaks_or_leaks(arena):
    # given: documents generated from the schema, then reshaped
    # when / then
    await hold(documents(), lambda value: _check(arena, value), EXAMPLES)
