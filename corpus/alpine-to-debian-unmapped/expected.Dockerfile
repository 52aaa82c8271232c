FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends s6 bash ca-certificates && rm -rf /var/lib/apt/lists/*
