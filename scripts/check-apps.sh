#!/usr/bin/env bash
# Build every benchmark app's ORIGINAL Dockerfile and run its smoke test; print
# a table (build seconds, image size, smoke result) and write it as JSON to
# bench/.cache/check-apps.json.  This is the baseline the optimizer is
# measured against, and the check that the apps themselves are sound.
#
#   check-apps.sh [--no-cache] [APP_NAME...]
#
# Apps whose bench.json says "originalBuildable": false (Alpine, whose
# repository is unreachable) are built from their "referenceDockerfile" (a
# hand-written Debian conversion) instead, when they have one.
# Images are tagged dfopt-bench/<app>:orig (or :reference).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
extra=()
names=()
for a in "$@"; do
  case "$a" in
    --no-cache) extra+=(--no-cache) ;;
    -*) echo "check-apps: unknown option $a" >&2; exit 2 ;;
    *) names+=("$a") ;;
  esac
done
if [ "${#names[@]}" -eq 0 ]; then
  for d in "$ROOT"/bench/apps/*/; do [ -f "$d/bench.json" ] && names+=("$(basename "$d")"); done
fi

field() {  # field APP KEY -> value from bench.json ('' when absent)
  /usr/bin/python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2], ""); print(json.dumps(v) if isinstance(v, (bool, list)) else v)' \
    "$ROOT/bench/apps/$1/bench.json" "$2"
}

mkdir -p "$ROOT/bench/.cache/logs"
results="$ROOT/bench/.cache/check-apps.tsv"
: > "$results"
failed=0
for app in "${names[@]}"; do
  dir="$ROOT/bench/apps/$app"
  dockerfile="$dir/$(field "$app" dockerfile)"
  tag="dfopt-bench/$app:orig"
  kind=original
  if [ "$(field "$app" originalBuildable)" = false ]; then
    ref=$(field "$app" referenceDockerfile)
    if [ -z "$ref" ]; then
      printf '%s\t%s\t-\t-\tskipped (original not buildable)\n' "$app" "$kind" >> "$results"
      continue
    fi
    dockerfile="$dir/$ref" tag="dfopt-bench/$app:reference" kind=reference
  fi
  log="$ROOT/bench/.cache/logs/$app.$kind.build.log"
  echo "== $app ($kind): building" >&2
  if line=$(BUILD_LOG="$log" bash "$ROOT/scripts/build-app.sh" "$dir" "$dockerfile" "$tag" -- "${extra[@]}" | tail -n 1); then
    secs=$(sed -n 's/.* seconds=\([0-9.]*\).*/\1/p' <<<"$line")
    mb=$(sed -n 's/.* size_mb=\([0-9.]*\).*/\1/p' <<<"$line")
    if bash "$ROOT/scripts/smoke-app.sh" "$dir" "$tag" > "$ROOT/bench/.cache/logs/$app.$kind.smoke.log" 2>&1; then
      smoke=pass
    else
      smoke=FAIL; failed=1
      tail -n 15 "$ROOT/bench/.cache/logs/$app.$kind.smoke.log" >&2
    fi
  else
    secs=- mb=- smoke="BUILD FAILED"; failed=1
  fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$app" "$kind" "$secs" "$mb" "$smoke" >> "$results"
done

{
  printf 'app\tbuilt\tbuild_s\tsize_mb\tsmoke\n'
  cat "$results"
} | if command -v column >/dev/null; then column -t -s $'\t'; else cat; fi
/usr/bin/python3 - "$results" "$ROOT/bench/.cache/check-apps.json" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
out = [dict(app=a, built=k, build_seconds=None if s == "-" else float(s),
            size_mb=None if m == "-" else float(m), smoke=r) for a, k, s, m, r in rows]
json.dump(out, open(sys.argv[2], "w"), indent=2)
PY
exit "$failed"
