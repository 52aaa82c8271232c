#!/usr/bin/env bash
# The real-Docker suite: builds every benchmark app's original and optimized
# Dockerfile with BuildKit and compares them (bench/images.ts). Fails if an
# optimized image does not build, or fails its smoke test where the original
# passed. Needs `bash scripts/setup-docker.sh` first (CI runs both).
set -euo pipefail
cd "$(dirname "$0")/../.."

npm run build --silent

echo "== dfopt verify reports a missing daemon clearly"
set +e
out=$(DOCKER_HOST=unix:///nonexistent.sock node bin/dfopt.js verify examples/python-classic/Dockerfile 2>&1)
code=$?
set -e
if [ "$code" -ne 2 ] || ! grep -q "setup-docker.sh" <<<"$out"; then
  echo "expected exit 2 and a hint to start dockerd, got $code: $out" >&2
  exit 1
fi

echo "== image benchmark (original vs optimized, every app)"
node dist/bench/images.js
