FROM alpine:3.19
RUN apk add --no-cache python3 \
    && python3 -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-cache-dir flask
