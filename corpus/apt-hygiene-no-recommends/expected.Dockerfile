FROM ubuntu:22.04
RUN apt-get update && apt-get install --no-install-recommends -y curl git ca-certificates && rm -rf /var/lib/apt/lists/*
