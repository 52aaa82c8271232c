FROM alpine:3.19
RUN --mount=type=cache,target=/var/cache/apk --mount=type=cache,target=/etc/apk/cache apk add --update curl && \
    echo "export LANG=C.UTF-8" > /etc/profile.d/locale.sh
