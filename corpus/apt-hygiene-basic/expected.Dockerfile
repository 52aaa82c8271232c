FROM debian:bookworm
# tools
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
