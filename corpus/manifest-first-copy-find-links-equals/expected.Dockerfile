FROM python:3.12-slim
ENV PIP_NO_CACHE_DIR=1
WORKDIR /srv/api
COPY --chown=1000:1000 requirements.txt .
COPY --chown=1000:1000 wheels/ wheels/
RUN python -m pip install --no-index --find-links=./wheels --requirement=requirements.txt
COPY --chown=1000:1000 . .
USER 1000
CMD ["python", "-m", "api"]
