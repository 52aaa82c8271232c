FROM debian:bookworm
RUN if [ -n "$WITH_CURL" ]; then apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*; fi
