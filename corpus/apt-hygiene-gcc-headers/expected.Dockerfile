# gcc and libpq-dev to compile psycopg2
FROM python:3.11-slim
RUN apt-get update && apt-get install --no-install-recommends -y gcc libpq-dev libc6-dev && rm -rf /var/lib/apt/lists/*
