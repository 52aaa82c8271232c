FROM golang:1.21
ENV GOPATH=/gopath
RUN --mount=type=cache,target=/root/.cache/go-build mkdir /gopath && go install example.com/tool@latest
FROM python:3.11
RUN mkdir /root/.cache && pip install --no-cache-dir flask
FROM node:20
RUN git clone https://example.com/app.git /app && ln -s /app/npm /root/.npm && npm ci
