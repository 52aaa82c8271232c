FROM debian:bookworm-slim
RUN set -eux; apt-get update
RUN apt-get install -y curl \
    && mkdir /x \
    && (set -e; cd /x; touch y)
