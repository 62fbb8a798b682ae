"""Build or check a trusted-documents manifest from a client's ``*.graphql`` operations.

Usage::

    python tools/trusted_documents.py build clients/trusted-documents -o manifest.json
    python tools/trusted_documents.py check clients/trusted-documents manifest.json
    python tools/trusted_documents.py build clients/trusted-documents-federated \
        --schema var/federation/supergraph.graphql \
        -o clients/trusted-documents-federated/manifest.json

``build`` validates every operation against the gateway's schema (or, with ``--schema``, against
another SDL: the composed supergraph for the router's federated documents) and writes an Apollo
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

from graphql import GraphQLSchema, build_schema, parse, validate

from gateway.edge.manifest import build_manifest, documents_in
from schema.root import schema


def manifest_text(directory: str, schema_sdl: str | None = None) -> str:
    """The manifest for ``directory``; raises ``SystemExit`` naming any invalid operation.

    ``schema_sdl``: validate against this schema instead of the gateway's (e.g. a supergraph).
    """
    against: GraphQLSchema = schema._schema if schema_sdl is None else build_schema(schema_sdl)
    operations = documents_in(directory)
    problems = []
    for name, body in operations.items():
        document = parse(body)
        names = [d.name.value for d in document.definitions if getattr(d, "name", None)]
        if names != [name]:
            problems.append(f"{name}: the file must hold one operation named {name}")
        problems += [f"{name}: {error.message}" for error in validate(against, document)]
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
    for command in (build, check):
        command.add_argument("--schema", help="an SDL file to validate against instead")
    args = parser.parse_args()
    sdl = None if args.schema is None else Path(args.schema).read_text(encoding="utf-8")
    text = manifest_text(args.directory, sdl)
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
