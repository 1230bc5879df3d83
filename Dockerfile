# casewatch: one image for every service (worker, exporter, ingest, simulate, ...).
#   docker build -t casewatch:local .      (docker-compose.yml builds it for you)
#   docker run --rm casewatch:local --help
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# An unprivileged user; its state directories exist in the image so that named volumes
# mounted there are created with the right owner.
RUN groupadd --system --gid 10001 casewatch \
 && useradd --system --uid 10001 --gid casewatch --home-dir /var/lib/casewatch --shell /usr/sbin/nologin casewatch \
 && mkdir -p /var/lib/casewatch/worker /data /import \
 && chown -R casewatch:casewatch /var/lib/casewatch /data

WORKDIR /app
# The runtime dependencies exactly as locked (every file's sha256 checked), then the project
# itself without resolving anything more.
COPY requirements-runtime.lock ./
RUN pip install --require-hashes --no-deps -r requirements-runtime.lock
COPY pyproject.toml README.md ./
COPY streams ./streams
COPY services ./services
COPY dashboards ./dashboards
RUN pip install --no-deps --no-build-isolation . \
 && casewatch --help >/dev/null

# The threshold file is read from the source tree (it is configuration, not code).
ENV CASEWATCH_THRESHOLDS_FILE=/app/dashboards/thresholds.yaml \
    CASEWATCH_WORKER_DATA_DIR=/var/lib/casewatch/worker

USER casewatch
WORKDIR /var/lib/casewatch
ENTRYPOINT ["casewatch"]
CMD ["--help"]
