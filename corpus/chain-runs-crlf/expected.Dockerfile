FROM debian:bookworm-slim
RUN apt-get update \
# tools
    && apt-get install -y curl
