# PilotGraph gateway image. Build: docker build -t pilotgraph:0.1.0 .
# The Python builder installs the hashed runtime lock into a virtualenv, builds the admin console
# into gateway/console/static (package data) with Node taken from the pinned Node image, and
# installs the project without dependencies; the runtime stage copies only that virtualenv, so no
# build tooling, Node or source ships.
#
# Base images are pinned by digest, so a re-pushed tag cannot change a build. To refresh one:
#   docker buildx imagetools inspect node:20-bookworm-slim --format '{{json .Manifest.Digest}}'
#   docker buildx imagetools inspect python:3.11-slim-bookworm --format '{{json .Manifest.Digest}}'
# then replace the digest below (or pass --build-arg NODE_IMAGE=... / PYTHON_IMAGE=...).
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0
ARG PYTHON_IMAGE=python:3.11-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b


FROM ${NODE_IMAGE} AS node


FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
# Exactly the locked versions, each checked against its hash; reused until the lock changes.
COPY requirements/runtime.txt requirements/runtime.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt

# Node from the pinned Node image, for the console's build only: that build validates the
# console's trusted documents against the gateway's schema, so it runs beside the Python code.
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
# The console's dependencies first: the layer is reused until its lockfile changes.
COPY console/package.json console/package-lock.json console/
RUN npm ci --prefix console --no-audit --no-fund

COPY pyproject.toml README.md ./
COPY db/ db/
COPY gateway/ gateway/
COPY planner/ planner/
COPY schema/ schema/
COPY tenants/ tenants/
COPY rollout/ rollout/
COPY adoption/ adoption/
COPY tools/trusted_documents.py tools/trusted_documents.py
COPY clients/trusted-documents/ clients/trusted-documents/
COPY console/ console/
# The console into gateway/console/static (package data), then the project only: every
# dependency is already installed from the lock.
RUN PYTHON=/opt/venv/bin/python npm run build --prefix console \
    && pip install --no-cache-dir --no-deps . \
    && test -f /opt/venv/lib/python3.11/site-packages/gateway/console/static/index.html


FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="pilotgraph" \
      org.opencontainers.image.description="Multi-tenant GraphQL gateway for staged pilot rollouts"

# A fixed numeric user, so Kubernetes can verify runAsNonRoot and the chart's runAsUser matches.
RUN groupadd --system --gid 10001 pilotgraph \
    && useradd --system --uid 10001 --gid 10001 --no-create-home \
       --home-dir /nonexistent --shell /usr/sbin/nologin pilotgraph

COPY --from=builder /opt/venv /opt/venv

# Bytecode is not written: the root filesystem is read-only under the chart.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1

WORKDIR /tmp
USER 10001:10001
EXPOSE 8000

# For plain `docker run`; Kubernetes uses the chart's probes instead.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

ENTRYPOINT ["pilotgraph"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
