# Hand-written Debian conversion of ./Dockerfile, kept as a reference for what
# an Alpine->Debian rewrite must produce (verified to build here):
#   apk libpq / libjpeg-turbo            -> apt libpq5 / libjpeg62-turbo (run time)
#   apk gcc musl-dev postgresql-dev jpeg-dev -> apt gcc libc6-dev libpq-dev libjpeg-dev
#   apk add --virtual .build-deps / apk del  -> install, then apt-get purge --auto-remove
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1

WORKDIR /app
COPY . .

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 libjpeg62-turbo \
    && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev libjpeg-dev \
    && pip install --no-cache-dir --no-index --find-links vendor -r requirements.txt \
    && apt-get purge -y --auto-remove gcc libc6-dev libpq-dev libjpeg-dev \
    && rm -rf /var/lib/apt/lists/*

EXPOSE 8000
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
