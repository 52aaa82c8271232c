FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends curl libpq5 && rm -rf /var/lib/apt/lists/* \
    && apt-get update && apt-get install -y --no-install-recommends \
        gcc \
        libc6-dev \
        libpq-dev \
        curl && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir psycopg2 \
    && apt-mark auto gcc libc6-dev libpq-dev && apt-get autoremove -y --purge
