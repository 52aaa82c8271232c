FROM debian:bookworm
COPY data.bin /data/
