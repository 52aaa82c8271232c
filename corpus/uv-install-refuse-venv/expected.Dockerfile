FROM python:3.12-slim AS venv
ENV VIRTUAL_ENV=/opt/venv
RUN python -m venv $VIRTUAL_ENV
ENV PATH="$VIRTUAL_ENV/bin:$PATH"
RUN pip install --no-cache-dir flask

FROM python:3.12-slim AS path-only
RUN python -m venv /venv
ENV PATH=/venv/bin:$PATH
RUN pip install --no-cache-dir flask

FROM python:3.12-slim AS activated
RUN python -m venv /venv && . /venv/bin/activate && pip install --no-cache-dir flask
RUN conda activate x && pip install --no-cache-dir y

FROM python:3.12-slim
ENV PATH=$PATH:/opt/tools/bin
COPY --from=ghcr.io/astral-sh/uv:0.8.23 /uv /uvx /bin/
RUN uv pip install --system --compile-bytecode --no-cache flask
COPY --from=venv /opt/venv /opt/venv
