#!/usr/bin/env bash
# Build one benchmark app with BuildKit and report its size.
#
#   build-app.sh APP_DIR DOCKERFILE TAG [-- EXTRA DOCKER BUILD ARGS...]
#
# APP_DIR is the build context (its vendor/ is refreshed first, see
# prepare-apps.sh); DOCKERFILE may live anywhere (e.g. an optimized copy in a
# temp dir).  Examples:
#   scripts/build-app.sh bench/apps/orders-pg-slim bench/apps/orders-pg-slim/Dockerfile bench/orders:orig
#   scripts/build-app.sh bench/apps/orders-pg-slim /tmp/opt/Dockerfile bench/orders:opt -- --no-cache
#
# Set BUILD_LOG=FILE to send docker's output to FILE (its tail is shown if the
# build fails).  The last line of output is machine-readable:
#   build-app: tag=TAG seconds=12.3 size_bytes=123456789 size_mb=117.7
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKER=/usr/bin/docker   # Debian's client; /usr/local/bin/docker is another build

if [ "$#" -lt 3 ]; then
  sed -n '2,15p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
app_dir="$(cd "$1" && pwd)"
dockerfile="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"
tag="$3"
shift 3
[ "${1:-}" = "--" ] && shift
[ -f "$dockerfile" ] || { echo "build-app: no such Dockerfile: $dockerfile" >&2; exit 2; }

bash "$ROOT/scripts/prepare-apps.sh" "$app_dir" >/dev/null

start=$(date +%s.%N)
if [ -n "${BUILD_LOG:-}" ]; then
  if ! DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain -f "$dockerfile" -t "$tag" "$@" "$app_dir" >"$BUILD_LOG" 2>&1; then
    tail -n 40 "$BUILD_LOG" >&2
    echo "build-app: build of $tag FAILED (full log: $BUILD_LOG)" >&2
    exit 1
  fi
else
  DOCKER_BUILDKIT=1 "$DOCKER" build -f "$dockerfile" -t "$tag" "$@" "$app_dir"
fi
end=$(date +%s.%N)

size=$("$DOCKER" image inspect -f '{{.Size}}' "$tag")
awk -v t="$tag" -v s="$start" -v e="$end" -v b="$size" \
  'BEGIN { printf "build-app: tag=%s seconds=%.1f size_bytes=%d size_mb=%.1f\n", t, e - s, b, b / 1048576 }'
