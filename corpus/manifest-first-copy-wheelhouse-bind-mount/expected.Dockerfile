FROM python:3.11-slim
RUN --mount=type=cache,target=/var/cache/apt apt-get update && apt-get install -y curl
RUN useradd app
WORKDIR /home/app/service
COPY --chown=app:app requirements.txt .
RUN --mount=type=bind,source=vendor,target=/home/app/service/vendor pip install --no-cache-dir --no-index --find-links vendor -r requirements.txt
COPY --chown=app:app . .
USER app
CMD ["python", "app.py"]
