FROM debian:bookworm-slim
COPY docker-entrypoint.sh /usr/local/bin
RUN sed -i 's/\r$//' /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
