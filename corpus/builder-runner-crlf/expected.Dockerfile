FROM python:3.11-slim AS builder
# build deps
RUN apt-get update && apt-get install -y gcc libffi-dev
WORKDIR /app
COPY requirements.txt .
RUN pip install --user -r requirements.txt

FROM python:3.11-slim AS runner
RUN apt-get update && apt-get install -y libffi8
WORKDIR /app
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
COPY . .
CMD ["python", "app.py"]
