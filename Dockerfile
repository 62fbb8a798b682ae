# PilotGraph gateway image. Build: docker build -t pilotgraph:0.1.0 .
# The builder installs the project and its dependencies into a virtualenv; the runtime stage copies
# only that virtualenv, so no build tooling or source tree ships in the image.

FROM python:3.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src
COPY pyproject.toml README.md ./
COPY db/ db/
COPY gateway/ gateway/
COPY schema/ schema/
COPY tenants/ tenants/
COPY rollout/ rollout/
COPY adoption/ adoption/
RUN pip install --no-cache-dir .


FROM python:3.11-slim-bookworm AS runtime

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
