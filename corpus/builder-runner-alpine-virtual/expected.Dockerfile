FROM python:3.10-alpine AS builder
ENV PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN apk add --no-cache libpq \
    && apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev jpeg-dev \
    && pip install --user --no-cache-dir -r requirements.txt \
    && apk del .build-deps

FROM python:3.10-alpine AS runner
ENV PYTHONUNBUFFERED=1
WORKDIR /app
RUN apk add --no-cache libpq libjpeg-turbo
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
COPY . .
EXPOSE 8000
CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]
