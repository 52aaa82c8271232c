FROM debian:bookworm
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked rm -f /etc/apt/apt.conf.d/docker-clean && echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache && apt-get update \
    && apt-get install -y curl \
    && rm -rf /tmp/build

VOLUME /etc/app /var/lib/app
CMD ["app"]
