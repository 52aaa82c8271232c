FROM python:3.11-alpine
RUN apk add --no-cache curl libpq && apk add --virtual .build-deps --no-cache \
    gcc \
    musl-dev \
    postgresql-dev \
  && pip install -r requirements.txt \
  && apk del .build-deps
CMD ["python", "app.py"]
