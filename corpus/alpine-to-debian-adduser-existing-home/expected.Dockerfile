FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
RUN useradd --user-group --home-dir /app --create-home --shell /bin/sh app && chown app: /app && chmod 2755 /app
USER app
