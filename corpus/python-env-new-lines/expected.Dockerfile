FROM python:3.12-slim AS base
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install -r requirements.txt

FROM base
COPY . /app
ENV PYTHONUNBUFFERED=1
# start
CMD python /app/main.py
