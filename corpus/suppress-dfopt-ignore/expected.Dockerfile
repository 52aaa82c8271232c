FROM debian:bookworm-slim
# dfopt ignore=maintainer-to-label
MAINTAINER Jane Doe <jane@example.com>
FROM debian:bookworm-slim AS second
LABEL maintainer="Joe <joe@example.com>"
