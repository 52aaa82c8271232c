FROM python:3.12-slim
RUN useradd --create-home --uid 10001 app
USER app
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=10001 pip install --user httpx
USER 10001:10001
ENV HOME=/home/app
RUN --mount=type=cache,target=/home/app/.cache/pip,uid=10001,gid=10001 pip install --user rich
USER nobody
RUN pip install --user attrs
