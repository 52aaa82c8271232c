FROM debian:bookworm-slim
RUN { id app || useradd --system app; } \
    && { mkdir -p /data || true; } \
    && chown app /data
