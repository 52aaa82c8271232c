FROM debian:bookworm-slim
RUN apt-get update && \
  apt-get install -y python3 && \
  rm -rf /var/lib/apt/lists/* && \
  python3 --version
