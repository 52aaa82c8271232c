#!/usr/bin/env bash
# Builds bench/.cache/vendor/: the offline package index (a pip --find-links
# directory) that every benchmark app installs from, because PyPI is not
# reachable here.  It holds
#   * wheels repacked from Debian's python3-* packages (scripts/repack-deb-wheel.py),
#   * setuptools and wheel wheels from Debian's python3-*-whl packages, so pip
#     can build sdists offline (build isolation looks them up in --find-links),
#   * sdists of our own packages under bench/packages/ (scripts/make-sdist.py),
#     two of which compile C extensions against libpq and libjpeg.
# Prints one line when it rebuilt something, nothing when already current.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${DFOPT_CACHE:-/var/cache/dfopt}"
DEB_DIR="$CACHE/debs"
VENDOR="$ROOT/bench/.cache/vendor"
PY=/usr/bin/python3   # Debian's python3 (has tomllib); not a pyenv shim

# Pure-Python Debian packages, repacked as-is.
PURE_DEBS=(
  python3-flask python3-werkzeug python3-jinja2 python3-itsdangerous python3-click
  python3-blinker python3-requests python3-urllib3 python3-idna python3-certifi
  python3-chardet python3-waitress python3-gunicorn python3-bottle python3-tabulate
  python3-dateutil python3-six python3-attr python3-packaging
  python3-prometheus-client python3-decorator python3-structlog python3-dotenv python3-pydantic
  python3-typing-extensions python3-toml
)
# Packages whose C accelerator is optional: the .so is dropped and the package
# runs on its pure-Python fallback (MarkupSafe, PyYAML, simplejson all do).
EXT_FALLBACK_DEBS=(python3-markupsafe python3-yaml python3-simplejson)

# The vendor dir is current when nothing that produces it changed.
stamp_input() {
  printf '%s\n' "${PURE_DEBS[@]}" "${EXT_FALLBACK_DEBS[@]}"
  cat "$ROOT/scripts/build-vendor.sh" "$ROOT/scripts/repack-deb-wheel.py" "$ROOT/scripts/make-sdist.py"
  (cd "$ROOT/bench/packages" && find . -type f ! -path '*/__pycache__/*' ! -path '*/build/*' \
     ! -path '*.egg-info/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}
STAMP=$(stamp_input | sha256sum | cut -d' ' -f1)
if [ -f "$VENDOR/.stamp" ] && [ "$(cat "$VENDOR/.stamp")" = "$STAMP" ]; then
  exit 0
fi

# --- 1. fetch the .debs (cached on the host, outside the work tree) ---------
mkdir -p "$DEB_DIR"
deb_file() { ls "$DEB_DIR/$1"_*.deb 2>/dev/null | sort -V | tail -n 1 || true; }
need=()
for p in "${PURE_DEBS[@]}" "${EXT_FALLBACK_DEBS[@]}"; do
  [ -n "$(deb_file "$p")" ] || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  # Sandbox::User=root: the _apt user may not write into $DEB_DIR.
  download() { (cd "$DEB_DIR" && apt-get -q -o APT::Sandbox::User=root download "${need[@]}" >/dev/null); }
  if ! download 2>/dev/null; then
    # Fresh machine: apt has no package lists yet.
    apt-get update -qq
    download
  fi
fi

# --- 2. build into a fresh dir, then swap it in ----------------------------
tmp="$VENDOR.tmp"
rm -rf "$tmp"
mkdir -p "$tmp"
pure=(); ext=()
for p in "${PURE_DEBS[@]}"; do pure+=("$(deb_file "$p")"); done
for p in "${EXT_FALLBACK_DEBS[@]}"; do ext+=("$(deb_file "$p")"); done
# The repacker's notes (dropped .so files, skipped symlinks) only matter on failure.
repack() {
  local out
  out=$("$PY" "$ROOT/scripts/repack-deb-wheel.py" --out "$tmp" "$@" 2>&1) || { echo "$out" >&2; return 1; }
}
repack "${pure[@]}"
repack --drop-ext "${ext[@]}"

for w in setuptools wheel; do
  f=$(ls /usr/share/python-wheels/"$w"-*-py3-none-any.whl 2>/dev/null | sort -V | tail -n 1 || true)
  [ -n "$f" ] || { echo "build-vendor: /usr/share/python-wheels has no $w wheel (install python3-$w-whl)" >&2; exit 1; }
  cp "$f" "$tmp/"
done

for pkg in "$ROOT"/bench/packages/*/; do
  [ -f "$pkg/pyproject.toml" ] || continue
  "$PY" "$ROOT/scripts/make-sdist.py" "$pkg" "$tmp" >/dev/null
done

echo "$STAMP" > "$tmp/.stamp"
rm -rf "$VENDOR"
mv "$tmp" "$VENDOR"
n=$(find "$VENDOR" -maxdepth 1 \( -name '*.whl' -o -name '*.tar.gz' \) | wc -l)
echo "built vendor dir ($n packages)"
