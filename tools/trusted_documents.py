"""Build or check a trusted-documents manifest from a client's ``*.graphql`` operations.

Usage::

    python tools/trusted_documents.py build clients/trusted-documents -o manifest.json
    python tools/trusted_documents.py check clients/trusted-documents manifest.json

``build`` validates every operation against the gateway's schema and writes an Apollo
persisted-query manifest (``id`` = SHA-256 of the body). ``check`` fails when the committed
manifest differs from what ``build`` would write. See docs/TRUSTED_DOCUMENTS.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from graphql import parse, validate

from gateway.edge.manifest import build_manifest, documents_in
from schema.root import schema


def manifest_text(directory: str) -> str:
    """The manifest for ``directory``; raises ``SystemExit`` naming any invalid operation."""
    operations = documents_in(directory)
    problems = []
    for name, body in operations.items():
        document = parse(body)
        names = [d.name.value for d in document.definitions if getattr(d, "name", None)]
        if names != [name]:
            problems.append(f"{name}: the file must hold one operation named {name}")
        problems += [f"{name}: {error.message}" for error in validate(schema._schema, document)]
    if problems:
        raise SystemExit("invalid operations:\n" + "\n".join(problems))
    return json.dumps(build_manifest(operations), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build")
    build.add_argument("directory")
    build.add_argument("-o", "--output", default="-")
    check = sub.add_parser("check")
    check.add_argument("directory")
    check.add_argument("manifest")
    args = parser.parse_args()
    text = manifest_text(args.directory)
    if args.command == "build":
        if args.output == "-":
            sys.stdout.write(text)
        else:
            Path(args.output).write_text(text, encoding="utf-8")
        return
    if Path(args.manifest).read_text(encoding="utf-8") != text:
        raise SystemExit(f"{args.manifest} is stale: run `build` again")


if __name__ == "__main__":
    main()
