#!/usr/bin/env bash
# `make run-federated`: PilotGraph (:8000) and member development (:8001) on their demos,
# composed, behind Hive Gateway (:4000). Ctrl-C stops all three.
# Ports: PILOTGRAPH_PORT, MEMBER_DEVELOPMENT_PORT, ROUTER_PORT.
set -euo pipefail
cd "$(dirname "$0")/.."
pg_port="${PILOTGRAPH_PORT:-8000}"
md_port="${MEMBER_DEVELOPMENT_PORT:-8001}"
router_port="${ROUTER_PORT:-4000}"
# The subgraphs answer _service/_entities only to the router's token; one per run unless given.
export PILOTGRAPH_ROUTER_TOKEN="${PILOTGRAPH_ROUTER_TOKEN:-$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(24))')}"
export MEMBER_DEVELOPMENT_DATABASE_URL="${MEMBER_DEVELOPMENT_DATABASE_URL:-sqlite+aiosqlite:///$PWD/var/member_development.db}"

.venv/bin/pilotgraph db upgrade
.venv/bin/pilotgraph demo load --if-empty
(cd subgraphs/member_development && .venv/bin/python -m member_development demo)
PILOTGRAPH_URL="http://127.0.0.1:$pg_port/graphql" \
  MEMBER_DEVELOPMENT_URL="http://127.0.0.1:$md_port/graphql" federation/supergraph.sh

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
.venv/bin/pilotgraph serve --port "$pg_port" & pids+=($!)
(cd subgraphs/member_development && exec .venv/bin/python -m member_development serve --port "$md_port") & pids+=($!)
(cd federation && exec node_modules/.bin/hive-gateway supergraph ../var/federation/supergraph.graphql \
  --host 127.0.0.1 --port "$router_port") & pids+=($!)
cat <<MSG

Router: http://127.0.0.1:$router_port/graphql   (PilotGraph :$pg_port, member development :$md_port)
Token:  .venv/bin/pilotgraph token --role province_admin
Query:  { tenant(slug: "nho-quan") { name memberCount memberDevelopment(year: 2023) { plan admitted achievementRate } } }
MSG
wait
