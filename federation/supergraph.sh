#!/usr/bin/env bash
# Compose var/federation/supergraph.graphql from both subgraphs' current SDL; fails on any error
# or hint. Subgraph URLs: PILOTGRAPH_URL, MEMBER_DEVELOPMENT_URL (defaults: ports 8000 and 8001).
set -euo pipefail
cd "$(dirname "$0")/.."
out=var/federation
mkdir -p "$out"
.venv/bin/python -c "from schema.root import sdl; print(sdl(), end='')" > "$out/pilotgraph.graphql"
(cd subgraphs/member_development && .venv/bin/python -m member_development sdl) \
  > "$out/member_development.graphql"
node federation/compose.mjs --out "$out/supergraph.graphql" \
  "pilotgraph=${PILOTGRAPH_URL:-http://127.0.0.1:8000/graphql}=$out/pilotgraph.graphql" \
  "member_development=${MEMBER_DEVELOPMENT_URL:-http://127.0.0.1:8001/graphql}=$out/member_development.graphql"
echo "wrote $out/supergraph.graphql"
