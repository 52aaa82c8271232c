FROM python:3.12-slim
COPY . /app
RUN mkdir -p /data \
    && cd /app && pip install .
RUN python -m app --self-test
