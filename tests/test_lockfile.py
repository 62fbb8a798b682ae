"""The lockfiles in requirements/ are current with the pyproject.toml files they were made from.

Resolving again needs PyPI, so this checks what can be checked offline: every declared dependency
is pinned, within its declared range, with hashes; the dev lock pins the runtime packages exactly
as the runtime lock (the image) does. `make lock` regenerates them.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "requirements" / "runtime.txt"
DEV = ROOT / "requirements" / "dev.txt"
SUBGRAPH = ROOT / "requirements" / "member-development.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def pins(lockfile: Path) -> dict[str, str]:
    """Canonical name -> pinned version; refuses a pin without a hash."""
    found: dict[str, str] = {}
    entries = re.split(r"\n(?=[A-Za-z0-9])", lockfile.read_text(encoding="utf-8"))
    for entry in entries:
        match = PIN.match(entry)
        if match is None:
            continue
        name = canonicalize_name(match.group(1))
        assert "--hash=sha256:" in entry, f"{lockfile.name}: {name} is pinned without a hash"
        found[name] = match.group(2)
    return found


def requirements(pyproject: Path, extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return [Requirement(spec) for spec in specs]


def out_of_lock(required: list[Requirement], locked: dict[str, str]) -> list[str]:
    """Each requirement the lock does not pin, or pins outside the declared range."""
    problems = []
    for requirement in required:
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement} but the lock pins {version}")
    return problems


@pytest.mark.parametrize(
    ("lockfile", "pyproject", "extras"),
    [
        (RUNTIME, ROOT / "pyproject.toml", [None]),
        (DEV, ROOT / "pyproject.toml", [None, "dev"]),
        (SUBGRAPH, ROOT / "subgraphs/member_development/pyproject.toml", [None, "dev"]),
    ],
    ids=["runtime", "dev", "member-development"],
)
def test_every_declared_dependency_is_pinned_within_its_range(
    lockfile: Path, pyproject: Path, extras: list[str | None]
) -> None:
    # given a lockfile and the pyproject.toml it was made from
    locked = pins(lockfile)

    # when each declared dependency is looked up in it
    problems = [p for extra in extras for p in out_of_lock(requirements(pyproject, extra), locked)]

    # then every one is pinned, with a hash, inside its declared range: `make lock` otherwise
    assert problems == []


def test_dev_lock_installs_the_runtime_versions_the_image_ships() -> None:
    # given both locks of the gateway
    runtime, dev = pins(RUNTIME), pins(DEV)

    # when the runtime packages are looked up in the dev lock
    differing = {name: (v, dev.get(name)) for name, v in runtime.items() if dev.get(name) != v}

    # then the tests run exactly the versions the image installs
    assert differing == {}


def test_a_pin_outside_the_declared_range_is_reported() -> None:
    # given a lock pinning SQLAlchemy 2.1, beyond the declared "<2.1"
    declared = [Requirement("sqlalchemy[asyncio]>=2.0.36,<2.1"), Requirement("graphql-core<3.4")]

    # when it is compared with the declared ranges
    problems = out_of_lock(declared, {"sqlalchemy": "2.1.9"})

    # then both the out-of-range pin and the missing one are named
    assert problems == [
        "sqlalchemy[asyncio]<2.1,>=2.0.36 but the lock pins 2.1.9",
        "graphql-core<3.4 is not pinned",
    ]
