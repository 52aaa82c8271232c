FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini bash ca-certificates && rm -rf /var/lib/apt/lists/*
COPY run.sh /run.sh
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/run.sh"]
