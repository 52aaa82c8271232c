FROM python:3.11-slim AS builder
ENV PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev libffi-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /home/app/service
COPY requirements.txt .
ENV PYTHONUSERBASE=/home/app/.local
RUN pip install --user --no-cache-dir -r requirements.txt

FROM python:3.11-slim AS runner
ENV PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends libffi8 \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home app
WORKDIR /home/app/service
COPY --from=builder --chown=app /home/app/.local /home/app/.local
ENV PYTHONUSERBASE=/home/app/.local PATH=/home/app/.local/bin:$PATH
COPY --chown=app:app . .
USER app
CMD ["python", "main.py"]
