FROM golang:1.22-bookworm AS build
ENV CGO_ENABLED=0
WORKDIR /src
COPY . .
RUN go build -o /app .

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /app
ENTRYPOINT ["/app"]
