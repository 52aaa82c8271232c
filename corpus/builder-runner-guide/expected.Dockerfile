FROM python:3.9.5-slim AS builder
RUN apt-get update && apt-get install -y libpq-dev gcc
COPY requirements.txt .
RUN pip install --user -r requirements.txt

FROM python:3.9.5-slim AS runner
RUN apt-get update && apt-get install -y libpq5
COPY requirements.txt .
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
