FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends tini bash ca-certificates && rm -rf /var/lib/apt/lists/* && ln -sf /usr/bin/tini /sbin/tini
COPY run.sh /run.sh
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["/run.sh"]
