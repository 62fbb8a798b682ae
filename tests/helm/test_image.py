"""The Dockerfile builds what the wheel test verifies: locked, hashed, console included.

No Docker engine runs here; hadolint lints the file (tests/helm/test_chart.py) and
tests/test_wheel.py installs and serves the same wheel the builder installs.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
DIGEST = re.compile(r"^ARG (\w+_IMAGE)=([\w./-]+:[\w.-]+)@sha256:([0-9a-f]{64})$", re.MULTILINE)


def instructions(stage: str) -> list[str]:
    """The instructions of one stage, continuation lines joined."""
    text = DOCKERFILE.replace("\\\n", " ")
    blocks = re.split(r"^FROM ", text, flags=re.MULTILINE)
    (block,) = [b for b in blocks if b.split("\n", 1)[0].endswith(f" AS {stage}")]
    return [line.strip() for line in block.splitlines()[1:] if re.match(r"^[A-Z]+ ", line)]


def test_every_base_image_is_pinned_by_digest() -> None:
    # when the FROM lines and the image ARGs are read
    froms = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    pinned = {
        name: f"{image}@sha256:{digest}" for name, image, digest in DIGEST.findall(DOCKERFILE)
    }

    # then every stage starts from an ARG holding a tag pinned to a sha256 digest
    assert froms == ["${NODE_IMAGE}", "${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]
    assert pinned["NODE_IMAGE"].startswith("node:20-bookworm-slim@sha256:")
    assert pinned["PYTHON_IMAGE"].startswith("python:3.11-slim-bookworm@sha256:")


def test_console_stage_builds_the_console_with_npm_ci() -> None:
    # when the console stage is read
    steps = instructions("console")

    # then it installs from the console's lockfile and builds
    assert "RUN npm ci --prefix console --no-audit --no-fund" in steps
    assert "RUN npm run build --prefix console" in steps


def test_builder_installs_the_hashed_lock_then_the_project_alone() -> None:
    # when the builder stage is read
    steps = instructions("builder")
    installs = [s for s in steps if s.startswith("RUN pip install")]

    # then the runtime lock is installed with hashes before the project, which adds no dependency,
    # and the built console is copied in as package data before the project is installed
    assert installs[0] == (
        "RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt"
    )
    assert installs[1].startswith("RUN pip install --no-cache-dir --no-deps .")
    console = "COPY --from=console /src/gateway/console/static/ gateway/console/static/"
    assert steps.index(console) < steps.index(installs[1])


def test_runtime_copies_only_the_virtualenv_and_runs_as_10001() -> None:
    # when the runtime stage is read
    steps = instructions("runtime")

    # then the venv is all it takes from the builder, and it runs as the chart's user
    assert [s for s in steps if s.startswith("COPY")] == ["COPY --from=builder /opt/venv /opt/venv"]
    assert "USER 10001:10001" in steps
