#!/usr/bin/env bash
# Copies the offline packages (bench/.cache/vendor/*) into each benchmark
# app's build context as vendor/, because the apps' Dockerfiles install with
# `pip install --no-index --find-links vendor ...`.  vendor/ is not committed.
#
#   prepare-apps.sh            all apps under bench/apps/
#   prepare-apps.sh DIR...     only these app directories
#
# Files are only rewritten when their content differs (cp -p keeps the cache's
# timestamps), so an unchanged vendor/ never disturbs Docker's build cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENDOR="$ROOT/bench/.cache/vendor"

if [ ! -d "$VENDOR" ] || [ -z "$(ls -A "$VENDOR" 2>/dev/null)" ]; then
  echo "prepare-apps: $VENDOR is missing or empty; run scripts/setup-docker.sh (or scripts/build-vendor.sh) first" >&2
  exit 1
fi

if [ "$#" -gt 0 ]; then
  apps=("$@")
else
  shopt -s nullglob
  apps=("$ROOT"/bench/apps/*/)
  shopt -u nullglob
fi

for app in "${apps[@]}"; do
  app="${app%/}"
  [ -d "$app" ] || { echo "prepare-apps: no such app dir: $app" >&2; exit 1; }
  dest="$app/vendor"
  mkdir -p "$dest"
  for f in "$VENDOR"/*.whl "$VENDOR"/*.tar.gz; do
    [ -e "$f" ] || continue
    b=$(basename "$f")
    cmp -s "$f" "$dest/$b" || cp -p "$f" "$dest/$b"
  done
  # Drop packages that are no longer in the cache (e.g. after a version bump).
  for f in "$dest"/*; do
    [ -e "$f" ] || continue
    [ -e "$VENDOR/$(basename "$f")" ] || rm -f "$f"
  done
  echo "prepared $app/vendor"
done
