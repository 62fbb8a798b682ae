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


def test_builder_builds_the_console_with_npm_ci_and_the_pinned_node() -> None:
    # when the builder stage is read
    steps = instructions("builder")

    # then Node comes from the pinned Node image, the console installs from its lockfile, and
    # its build (which validates the console's documents with the gateway's schema) runs with
    # the virtualenv's Python, with the documents and the manifest tool copied in
    assert "COPY --from=node /usr/local/bin/node /usr/local/bin/node" in steps
    assert "RUN npm ci --prefix console --no-audit --no-fund" in steps
    assert "COPY tools/trusted_documents.py tools/trusted_documents.py" in steps
    assert "COPY clients/trusted-documents/ clients/trusted-documents/" in steps
    (build,) = [s for s in steps if "npm run build --prefix console" in s]
    assert build.startswith("RUN PYTHON=/opt/venv/bin/python npm run build --prefix console")


def test_builder_installs_the_hashed_lock_then_the_project_alone() -> None:
    # when the builder stage is read
    steps = instructions("builder")
    installs = [s for s in steps if s.startswith("RUN pip install")]

    # then the runtime lock is installed with hashes first; the project, which adds no
    # dependency, is installed after the console is built into its package data
    assert installs[0] == (
        "RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt"
    )
    (project,) = [s for s in steps if "pip install --no-cache-dir --no-deps ." in s]
    assert project.index("npm run build --prefix console") < project.index("--no-deps .")
    assert "site-packages/gateway/console/static/index.html" in project


def test_runtime_copies_only_the_virtualenv_and_runs_as_10001() -> None:
    # when the runtime stage is read
    steps = instructions("runtime")

    # then the venv is all it takes from the builder, and it runs as the chart's user
    assert [s for s in steps if s.startswith("COPY")] == ["COPY --from=builder /opt/venv /opt/venv"]
    assert "USER 10001:10001" in steps
