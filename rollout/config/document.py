"""The configuration file's shape, and reading YAML with the line of every field.

The file holds the province's *configuration* (what an admin decides), never its state: no
versions, no plan position, no timestamps but a wave's earliest start.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from rollout.errors import InvalidConfig, InvalidYaml
from rollout.kpi import Metric
from rollout.models import FlagState

Path = tuple[str | int, ...]


def _variant(value: object) -> object:
    """YAML 1.1 reads a bare ``on``/``off`` as a boolean: take it as the variant it spells."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return value


Variant = Annotated[str, BeforeValidator(_variant)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class GateCriterion(_Strict):
    metric: Metric = Field(strict=False)
    minimum: float = Field(strict=False)


class Wave(_Strict):
    name: str
    tenants: list[str]
    ramp: list[float] = Field(default=[100.0], strict=False)
    earliest_start: dt.datetime | None = Field(default=None, strict=False)
    gate: list[GateCriterion] = []
    sustain_days: int = 0


class Plan(_Strict):
    guardrail_drop: float | None = Field(default=None, strict=False)
    waves: list[Wave]


class Rule(_Strict):
    when: dict[str, list[str]]
    serve: Variant


class Override(_Strict):
    variant: Variant
    reason: str = ""


class FlagConfig(_Strict):
    description: str = ""
    default: Variant
    state: FlagState = Field(default=FlagState.ACTIVE, strict=False)
    rules: list[Rule] = []
    overrides: dict[str, Override] = {}
    plan: Plan | None = None


class Document(_Strict):
    province: str
    flags: dict[str, FlagConfig] = {}


def line_of(lines: dict[Path, int], path: Path) -> int | None:
    """The line of ``path``, or of its nearest ancestor present in the file."""
    while path not in lines and path:
        path = path[:-1]
    return lines.get(path)


def where(lines: dict[Path, int], path: Path) -> tuple[str, str]:
    """(dotted field, "line N, field: ") for a message about ``path``."""
    dotted = ".".join(str(p) for p in path) or "(document)"
    line = line_of(lines, path)
    return dotted, (f"line {line}, " if line else "") + f"{dotted}: "


def parse(text: str) -> tuple[Document, dict[Path, int]]:
    """The document in ``text`` and the line of each of its fields; InvalidYaml or InvalidConfig
    (with the field's path and line) when it cannot be read."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        raise InvalidYaml(f"{at}not valid YAML ({getattr(exc, 'problem', None) or exc}).") from None
    lines: dict[Path, int] = {}
    if node is not None:
        _walk(node, (), lines)
    if not isinstance(data, dict):
        raise InvalidConfig("The file must be a mapping with `province` and `flags`.")
    try:
        return Document.model_validate(data), lines
    except ValidationError as exc:
        first = exc.errors()[0]
        dotted, at = where(lines, tuple(first["loc"]))
        raise InvalidConfig(f"{at}{first['msg']}.", field=dotted) from None


def _walk(node: yaml.Node, path: Path, lines: dict[Path, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key, value in node.value:
            name = key.value
            if name in seen:
                dotted, at = where({(*path, name): key.start_mark.line + 1}, (*path, name))
                raise InvalidConfig(f"{at}appears twice.", field=dotted)
            seen.add(name)
            lines[(*path, name)] = key.start_mark.line + 1
            _walk(value, (*path, name), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), lines)
