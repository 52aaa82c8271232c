# Maintainer metadata, the old way
FROM debian:bookworm-slim
LABEL maintainer="Jane Doe <jane@example.com>"
RUN echo "hello"
