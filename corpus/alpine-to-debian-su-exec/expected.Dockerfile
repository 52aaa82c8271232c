FROM debian:bookworm-slim
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
RUN apt-get update && apt-get install -y --no-install-recommends gosu ca-certificates && rm -rf /var/lib/apt/lists/* && ln -s /usr/sbin/gosu /usr/local/bin/su-exec \
    && useradd --uid 1000 --user-group --create-home --shell /bin/sh app
COPY entrypoint.sh /entrypoint.sh
ENTRYPOINT ["gosu", "app", "/entrypoint.sh"]
