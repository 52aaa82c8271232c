FROM alpine:3.19
RUN --mount=type=cache,target=/var/cache/apk --mount=type=cache,target=/etc/apk/cache apk add --update-cache ca-certificates tzdata
RUN --mount=type=cache,target=/var/cache/apk --mount=type=cache,target=/etc/apk/cache apk update && apk add --virtual .build-deps gcc musl-dev
