FROM debian:bookworm-slim

# refresh the index
RUN apt-get update \
# the tools we need
  # (indented comment)
    && apt-get install -y make

EXPOSE 80
