FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
RUN mkdir /data && chown -R nobody:nogroup /data && chgrp nogroup /data
COPY --chown=nobody:nogroup app /app
USER nobody:nogroup
