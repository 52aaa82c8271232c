FROM golang:1.21 AS build
RUN go mod download
FROM golang:1.21
COPY --from=build /go /go
RUN --mount=type=cache,target=/root/.cache/go-build go build -mod=mod ./...
FROM python:3.11
COPY wheels /root/.cache/pip/wheels
RUN pip install --no-cache-dir x
FROM debian:12
RUN --mount=type=cache,target=/var/lib/apt/lists,sharing=locked apt-get update && apt-get install -y --download-only curl
RUN dpkg -i /var/cache/apt/archives/*.deb
