# A service image (top comment stays first)
FROM python:3.11-slim AS builder

# environment for the app
ENV APP_HOME=/app

# build deps for psycopg2
RUN apt-get update \
    # compilers and headers
    && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*

WORKDIR $APP_HOME

# requirements first, for the layer cache
COPY requirements.txt .
ENV PYTHONUSERBASE=/home/app/.local
# install the dependencies
RUN pip install --user --no-cache-dir -r requirements.txt

FROM python:3.11-slim AS runner
ENV APP_HOME=/app
RUN apt-get update \
    # compilers and headers
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/*
# the user the app runs as
RUN useradd --create-home app
WORKDIR $APP_HOME
LABEL org.opencontainers.image.title="demo"
COPY --from=builder --chown=app /home/app/.local /home/app/.local
ENV PYTHONUSERBASE=/home/app/.local PATH=/home/app/.local/bin:$PATH

# the app itself
COPY --chown=app:app . .
USER app
# run it
CMD ["python", "app.py"]
