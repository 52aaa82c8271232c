FROM python:3.12-slim AS builder
# curl is used by the HEALTHCHECK; gcc and libxml2-dev only build lxml
RUN apt-get update && apt-get install -y --no-install-recommends \
        curl \
        gcc \
        libxml2-dev \
        libxslt1-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
RUN pip install --user --no-cache-dir -r /tmp/requirements.txt

FROM python:3.12-slim AS runner
RUN apt-get update && apt-get install -y --no-install-recommends \
        curl libxml2 libxslt1.1 \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /tmp/requirements.txt
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
COPY app.py /srv/app.py
HEALTHCHECK CMD curl -fs http://localhost:8080/health || exit 1
CMD ["python", "/srv/app.py"]
