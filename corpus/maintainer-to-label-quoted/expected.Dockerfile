FROM debian:bookworm-slim
LABEL maintainer="\"Tiago <tiago@example.com>\""
