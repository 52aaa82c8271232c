#!/usr/bin/env bash
# Run an app's smoke test (the "smoke" command in its bench.json) in an image:
#
#   smoke-app.sh APP_DIR IMAGE
#
# It runs exactly `docker run --rm IMAGE sh -c "<smoke>"`, so the image's
# USER and WORKDIR apply.  Exit status is the smoke command's.  A hard
# timeout (SMOKE_TIMEOUT, default 120 s) removes a container that hangs.
set -euo pipefail

DOCKER=/usr/bin/docker
[ "$#" -eq 2 ] || { echo "usage: smoke-app.sh APP_DIR IMAGE" >&2; exit 2; }
app_dir=$1 image=$2
smoke=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["smoke"])' "$app_dir/bench.json")

name="dfopt-smoke-$$-$RANDOM"
rc=0
timeout --kill-after=5 "${SMOKE_TIMEOUT:-120}" \
  "$DOCKER" run --rm --name "$name" "$image" sh -c "$smoke" || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  "$DOCKER" rm -f "$name" >/dev/null 2>&1 || true
  echo "smoke-app: timed out after ${SMOKE_TIMEOUT:-120}s" >&2
fi
exit "$rc"
