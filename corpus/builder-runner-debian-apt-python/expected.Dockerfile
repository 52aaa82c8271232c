FROM debian:bookworm-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 python3-pip python3-dev gcc libyaml-dev \
    && rm -rf /var/lib/apt/lists/*
# Debian 12 marks its Python externally managed (PEP 668)
ENV PIP_BREAK_SYSTEM_PACKAGES=1
WORKDIR /srv
COPY requirements.txt ./
RUN pip3 install --user --no-cache-dir -r requirements.txt

FROM debian:bookworm-slim AS runner
RUN apt-get update && apt-get install -y --no-install-recommends \
        python3 python3-pip libyaml-0-2 \
    && rm -rf /var/lib/apt/lists/*
ENV PIP_BREAK_SYSTEM_PACKAGES=1
WORKDIR /srv
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
COPY . .
CMD ["python3", "server.py"]
