FROM debian:bookworm-slim
SHELL ["/bin/bash", "-eo", "pipefail", "-c"]
RUN mkdir -p /opt/a; touch /opt/a/x
RUN curl -fsSL https://example.com/x.tgz | tar -xz -C /opt \
    && chmod +x /opt/x/bin/tool
