FROM python:3.11
RUN --mount=type=cache,target=/root/.cache/pip python3 -m pip install --upgrade pip setuptools wheel
RUN --mount=type=cache,target=/root/.cache/pip python -m pip install -r /tmp/requirements.txt \
    && rm -rf /tmp/*
