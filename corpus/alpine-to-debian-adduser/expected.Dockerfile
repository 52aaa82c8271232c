FROM python:3.12-slim-bookworm
RUN groupadd --system app && useradd --system --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --chown=app:app . .
USER app
CMD ["python", "main.py"]
