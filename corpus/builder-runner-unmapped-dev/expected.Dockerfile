FROM python:3.11-slim AS builder
RUN apt-get update && apt-get install -y --no-install-recommends gcc libcfitsio-dev \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --user -r requirements.txt

FROM python:3.11-slim AS runner
COPY requirements.txt .
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
CMD ["python", "-m", "astro_tool"]
