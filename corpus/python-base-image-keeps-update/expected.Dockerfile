FROM python:3.10-slim-bookworm AS base
RUN apt-get update
RUN apt-get install -y curl
RUN pip3 install flask

FROM base
RUN apt-get install -y --no-install-recommends git
