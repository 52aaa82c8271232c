FROM python:3.12
ENV PIP_CACHE_DIR=/var/cache/pip \
    XDG_CACHE_HOME=/cache
RUN --mount=type=cache,target=/var/cache/pip --mount=type=cache,target=/cache/uv pip install -r requirements.txt && uv sync --frozen
RUN --mount=type=cache,target=/tmp/npm-cache npm_config_cache=/tmp/npm-cache npm ci
