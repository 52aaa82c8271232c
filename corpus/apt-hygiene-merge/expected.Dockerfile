FROM ubuntu:22.04
RUN apt-get update && apt-get install --no-install-recommends -y \
    gcc \
    make libc6-dev git ca-certificates \
  && rm -rf /var/lib/apt/lists/*
