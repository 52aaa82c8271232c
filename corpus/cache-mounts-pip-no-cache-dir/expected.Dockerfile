FROM python:3.12-slim
COPY requirements.txt requirements-dev.txt ./
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
RUN --mount=type=cache,target=/root/.cache/pip pip install \
    --upgrade \
    -r requirements-dev.txt
RUN --mount=type=cache,target=/root/.cache/pip pip3 install gunicorn
