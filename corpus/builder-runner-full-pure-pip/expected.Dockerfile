FROM python:3.11 AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /usr/src/app

COPY requirements.txt .
# BuildKit already: the library list comes from the builder by a bind mount
RUN --mount=type=cache,target=/root/.cache/pip pip install --user -r requirements.txt
# Debian packages owning the shared libraries the installed extensions and programs link (for the python:3.11-slim runner)
RUN find /root/.local -type f \( -name '*.so*' -o -perm -u+x \) -exec ldd {} + 2>/dev/null \
    | awk '$2 == "=>" && $3 ~ /^\// { print $3 }' | sort -u \
    | while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true; done \
    | sed -n '/diversion/!s/: \/.*//p' | tr ',' '\n' | sed 's/^ *//; s/:.*//' | sort -u > /tmp/runtime-packages.txt

FROM python:3.11-slim AS runner
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /usr/src/app
# The packages of those libraries that python:3.11-slim lacks
RUN --mount=type=bind,from=builder,source=/tmp/runtime-packages.txt,target=/tmp/runtime-packages.txt \
    missing=$(for p in $(cat /tmp/runtime-packages.txt); do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done) \
    && if [ -n "$missing" ]; then apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; fi
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
COPY . .

CMD ["python", "worker.py"]
