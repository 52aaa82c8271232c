FROM alpine:3.19
RUN apk update
RUN sh -c "apk add curl"
FROM alpine:3.19 AS base
RUN apk update && apk add git
FROM base
RUN ["apk", "add", "wget"]
FROM alpine:3.19
RUN apk update
RUN apk add jq
FROM alpine:3.19
RUN --mount=type=cache,target=/var/cache/apk --mount=type=cache,target=/etc/apk/cache apk update && apk add bash
