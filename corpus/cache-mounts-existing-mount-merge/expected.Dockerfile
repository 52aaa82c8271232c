FROM python:3.12
RUN --mount=type=cache,target=/root/.cache/pip --mount=type=bind,source=requirements.txt,target=/tmp/requirements.txt --mount=type=cache,target=/root/.npm \
    pip install -r /tmp/requirements.txt && npm install -g pnpm
RUN --mount=type=cache,target=/root/.cache pip install uv && uv pip install --system httpx
