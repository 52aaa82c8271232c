FROM ubuntu:22.04
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked rm -f /etc/apt/apt.conf.d/docker-clean && echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache && apt-get update
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get install -y --no-install-recommends build-essential
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/*
