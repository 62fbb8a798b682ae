"""The console's build runs the manifest builder: an invalid or stale document fails it, and the
console's dist/ is left as it was."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.console.routes import DIST
from tests.conftest import IN_CI
from tests.console.conftest import ROOT

DOCUMENTS = ROOT / "clients" / "trusted-documents"


def _build(documents: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (ROOT / "console" / "node_modules").is_dir():
        if IN_CI:
            pytest.fail("in CI the console build needs node and `npm ci --prefix console`")
        pytest.skip("the console build needs node and `npm ci --prefix console`")
    env = {**os.environ, "PILOTGRAPH_TRUSTED_DOCUMENTS": str(documents), "PYTHON": sys.executable}
    return subprocess.run(
        [node, str(ROOT / "console" / "build.mjs")],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _dist_state() -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in DIST.rglob("*") if p.is_file()}


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    """A copy of the repository's documents and committed manifest."""
    copy = tmp_path / "trusted-documents"
    shutil.copytree(DOCUMENTS, copy)
    return copy


def test_a_document_that_does_not_validate_fails_the_build(documents: Path) -> None:
    # given: a console document asking for a field the schema does not have
    (documents / "console" / "Broken.graphql").write_text(
        "query Broken { tenant { slug population } }\n", encoding="utf-8"
    )
    before = _dist_state()
    # when
    build = _build(documents)
    # then
    assert build.returncode != 0
    assert "Broken: Cannot query field 'population' on type 'Tenant'." in build.stderr
    assert "console build failed: tools/trusted_documents.py build" in build.stderr
    assert _dist_state() == before


def test_a_file_holding_another_operation_fails_the_build(documents: Path) -> None:
    # given
    (documents / "console" / "Named.graphql").write_text(
        "query Other { tenant { slug } }\n", encoding="utf-8"
    )
    # when
    build = _build(documents)
    # then
    assert build.returncode != 0
    assert "Named: the file must hold one operation named Named" in build.stderr


def test_a_stale_committed_manifest_fails_the_build(documents: Path) -> None:
    # given: a valid new console document, not yet in the committed manifest
    (documents / "console" / "TenantSlug.graphql").write_text(
        "query TenantSlug { tenant { slug } }\n", encoding="utf-8"
    )
    # when
    build = _build(documents)
    # then
    assert build.returncode != 0
    assert f"{documents / 'manifest.json'} is stale: run `build` again" in build.stderr
    assert "console build failed: tools/trusted_documents.py check" in build.stderr
