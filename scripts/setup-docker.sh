#!/usr/bin/env bash
# One idempotent command that gives this machine a working Docker daemon, the
# local stand-ins for the base images the benchmark apps use, and the offline
# Python packages those apps install.  CI runs it as `bash scripts/setup-docker.sh`;
# a re-run on a prepared machine only checks and takes a few seconds.
#
# Why stand-ins: no Docker registry is reachable from this machine, only
# Debian's package archive.  So debian:bookworm-slim is built with debootstrap,
# and python:* / ubuntu:* are built FROM it (see bench/base-images/README.md).
#
# Environment knobs:
#   DFOPT_CACHE      host cache for downloaded .debs (default /var/cache/dfopt);
#                    kept outside the work tree so fresh clones (CI) reuse it
#   DFOPT_DOCKER_LOG dockerd log file (default /var/log/dfopt-dockerd.log)
#   DFOPT_REBUILD=1  rebuild the stand-in images even if they are current
#                    (and without Docker's build cache)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Always the Debian client: /usr/local/bin/docker on this machine is a
# different, client-only build that may come first on PATH.
DOCKER=/usr/bin/docker
DOCKERD=/usr/sbin/dockerd
CACHE="${DFOPT_CACHE:-/var/cache/dfopt}"
DOCKER_LOG="${DFOPT_DOCKER_LOG:-/var/log/dfopt-dockerd.log}"
DEBIAN_MIRROR=http://deb.debian.org/debian
START_TS=$(date +%s)
DONE=()   # what this run actually did, for the summary line

log() { printf '[setup-docker] %s\n' "$*" >&2; }
die() { printf '[setup-docker] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root (installs packages, starts dockerd)"

# ---------------------------------------------------------------------------
# 1. Host packages (apt-get only when something is missing)
# ---------------------------------------------------------------------------
HOST_PKGS=(docker.io debootstrap python3 python3-setuptools-whl python3-wheel-whl
           ca-certificates iptables)
APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
}

missing=()
for p in "${HOST_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt_update_once
  log "installing host packages: ${missing[*]}"
  # --no-install-recommends: docker.io recommends git/apparmor/... we don't need.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  DONE+=("installed ${missing[*]}")
fi
[ -x "$DOCKER" ] && [ -x "$DOCKERD" ] || die "docker.io did not provide $DOCKER and $DOCKERD"

# ---------------------------------------------------------------------------
# 2. dockerd
# ---------------------------------------------------------------------------
docker_up() { "$DOCKER" info >/dev/null 2>&1; }

# Can the kernel mount overlayfs on the filesystem holding /var/lib/docker?
# (It can't when /var/lib/docker itself sits on overlayfs, e.g. nested setups.)
overlay_works() {
  local t
  mkdir -p /var/lib/docker
  t=$(mktemp -d /var/lib/docker/.dfopt-overlay-test.XXXXXX)
  mkdir -p "$t/lower" "$t/upper" "$t/work" "$t/merged"
  if mount -t overlay overlay -o "lowerdir=$t/lower,upperdir=$t/upper,workdir=$t/work" "$t/merged" 2>/dev/null; then
    umount "$t/merged"; rm -rf "$t"; return 0
  fi
  rm -rf "$t"; return 1
}

start_dockerd() {
  local driver pid
  # A daemon killed at the end of a previous session leaves its pid files;
  # dockerd refuses to start while /var/run/docker.pid names a live process.
  for pf in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -f "$pf" ] && ! kill -0 "$(cat "$pf" 2>/dev/null)" 2>/dev/null; then rm -f "$pf"; fi
  done
  if [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    die "a dockerd (pid $(cat /var/run/docker.pid)) is running but does not answer; see $DOCKER_LOG"
  fi
  # Keep whatever driver an existing /var/lib/docker was created with;
  # otherwise prefer overlay2 and fall back to vfs (slow, huge) only if needed.
  if [ -d /var/lib/docker/overlay2 ] && [ -n "$(ls -A /var/lib/docker/overlay2 2>/dev/null)" ]; then
    driver=overlay2
  elif [ -d /var/lib/docker/vfs ] && [ -n "$(ls -A /var/lib/docker/vfs 2>/dev/null)" ]; then
    driver=vfs
  elif overlay_works; then
    driver=overlay2
  else
    log "WARNING: overlayfs mount failed; falling back to the vfs storage driver (slow, uses much more disk)"
    driver=vfs
  fi
  log "starting dockerd (storage driver $driver, log $DOCKER_LOG)"
  # --ip 127.0.0.1: a published port (-p) binds to loopback only, never to a
  # network address.  setsid+nohup: the daemon outlives this script.
  setsid nohup "$DOCKERD" --storage-driver "$driver" --ip 127.0.0.1 \
    >>"$DOCKER_LOG" 2>&1 </dev/null &
  pid=$!
  for _ in $(seq 1 60); do
    if docker_up; then DONE+=("started dockerd pid $pid ($driver)"); return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$DOCKER_LOG" >&2 || true
      die "dockerd exited during startup; see $DOCKER_LOG"
    fi
    sleep 1
  done
  tail -n 20 "$DOCKER_LOG" >&2 || true
  die "dockerd did not answer '$DOCKER info' within 60s; see $DOCKER_LOG"
}

docker_up || start_dockerd
driver_now=$("$DOCKER" info -f '{{.Driver}}')
[ "$driver_now" = overlay2 ] || log "note: docker storage driver is '$driver_now' (not overlay2)"

# ---------------------------------------------------------------------------
# 3. Base images
# ---------------------------------------------------------------------------
# Every stand-in records what it was made from in the label below: a sha256
# over its recipe (the files of its bench/base-images/ directory, or for the
# Debian image the shell functions that make it) and the ID of the image it is
# built FROM.  A stand-in is rebuilt when that hash differs from the one it
# records -- an edited Dockerfile, or a rebuilt parent -- and so is everything
# built on it; when nothing changed a re-run only compares labels and IDs.
RECIPE_LABEL=dfopt.standin.recipe
OLD_IDS=()   # images replaced by a rebuild, deleted at the end if nothing uses them

image_id() { "$DOCKER" image inspect -f '{{.Id}}' "$1" 2>/dev/null; }

# needs_build TAG RECIPE: TAG is missing, records another recipe, or DFOPT_REBUILD=1.
needs_build() {
  local have
  [ "${DFOPT_REBUILD:-0}" = 1 ] && return 0
  have=$("$DOCKER" image inspect -f "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$1" 2>/dev/null) || return 0
  [ "$have" != "$2" ]
}

# dir_recipe DIR PARENT_TAG: hash of bench/base-images/DIR (every file: the
# build context) and of the parent image's ID.
dir_recipe() {
  local dir="$ROOT/bench/base-images/$1" parent
  parent=$(image_id "$2") || die "$2 is missing (needed by bench/base-images/$1)"
  { (cd "$dir" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); echo "FROM $parent"; } |
    sha256sum | cut -d' ' -f1
}

# remember_old TAG: the image TAG names now, to delete once it is replaced.
remember_old() {
  local id
  if id=$(image_id "$1"); then OLD_IDS+=("$id"); fi
}

# tag_all SOURCE TAG...: point every TAG at SOURCE's image (only those that
# don't already).
tag_all() {
  local src=$1 id n=0; shift
  id=$(image_id "$src") || die "$src is missing"
  for t in "$@"; do
    if [ "$(image_id "$t")" != "$id" ]; then "$DOCKER" tag "$src" "$t"; n=$((n + 1)); fi
  done
  [ "$n" -eq 0 ] || DONE+=("tagged $n alias(es) of $src")
}

# Everything the official debian images (built by debuerreotype) change on
# top of debootstrap and that matters to a Dockerfile: apt's docker-* config
# (docker-clean is the hook that makes BuildKit apt cache mounts need
# `rm -f /etc/apt/apt.conf.d/docker-clean`), the slim dpkg path excludes,
# deb822 sources, and empty apt lists/caches/logs.
configure_rootfs() {
  local r=$1
  # policy-rc.d: never start services inside a build.
  printf '#!/bin/sh\n\n# Images never start services while packages are installed.\nexit 101\n' > "$r/usr/sbin/policy-rc.d"
  chmod 0755 "$r/usr/sbin/policy-rc.d"

  printf '%s\n' '# Package installs in a build are thrown away with the container if the build' \
    '# fails, so skipping fsync() is safe and much faster.' '' 'force-unsafe-io' \
    > "$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"

  # The functional lines below are exactly those of the official images.
  cat > "$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
# As in the official debian images: every image layer that installs packages
# would otherwise keep the downloaded .debs and apt's binary caches, so they
# are deleted right after each dpkg run and each "apt-get update" (an
# "apt-get clean" that cannot deadlock on apt's own lock).
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };

Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  cat > "$r/etc/apt/apt.conf.d/docker-autoremove-suggests" <<'EOF'
# As in the official debian images: "apt-get purge --auto-remove" also removes
# packages that were kept only because something Suggests them.
Apt::AutoRemove::SuggestsImportant "false";
EOF
  cat > "$r/etc/apt/apt.conf.d/docker-gzip-indexes" <<'EOF'
# As in the official debian images: keep package lists compressed on disk so a
# forgotten "rm -rf /var/lib/apt/lists/*" costs less.
Acquire::GzipIndexes "true";
EOF
  cat > "$r/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
# As in the official debian images: no translated package descriptions.
Acquire::Languages "none";
EOF
  chmod 0644 "$r"/etc/apt/apt.conf.d/docker-* "$r/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"

  # bookworm images use deb822 sources and no /etc/apt/sources.list.
  rm -f "$r/etc/apt/sources.list"
  cat > "$r/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $DEBIAN_MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

  # "slim": dpkg never installs docs/man pages/translations (so e.g. a
  # package that writes into /usr/share/man/man1 needs `mkdir -p` first, as on
  # the real slim image), and the ones debootstrap installed are deleted.
  local excludes=(/usr/share/doc/ /usr/share/groff/ /usr/share/info/ /usr/share/linda/
                  /usr/share/lintian/overrides/ /usr/share/locale/ /usr/share/man/)
  {
    echo '# This is the "slim" variant of the Debian base image.'
    echo '# Many files which are normally unnecessary in containers are excluded,'
    echo '# and this configuration file keeps them that way.'
    for d in "${excludes[@]}"; do echo; echo "path-exclude ${d}*"; done
    echo
    for inc in '/usr/share/doc/*/copyright' /usr/share/locale/locale.alias /usr/share/locale/languages \
               /usr/share/locale/all_languages '/usr/share/locale/currency/*' '/usr/share/locale/l10n/*'; do
      echo "path-include $inc"
    done
  } > "$r/etc/dpkg/dpkg.cfg.d/docker"
  chmod 0644 "$r/etc/dpkg/dpkg.cfg.d/docker"
  for d in "${excludes[@]}"; do
    [ -d "$r$d" ] || continue
    find "$r$d" -mindepth 1 \( -type f -o -type l \) \
      ! -path "$r/usr/share/doc/*/copyright" ! -path "$r/usr/share/locale/locale.alias" -delete
    find "$r$d" -mindepth 1 -depth -type d -empty -delete
  done

  # Empty lists and caches: a Dockerfile must run "apt-get update" first.
  find "$r/var/lib/apt/lists" -mindepth 1 -maxdepth 1 -type f -delete
  mkdir -p "$r/var/lib/apt/lists/partial"
  rm -f "$r"/var/cache/apt/archives/*.deb "$r"/var/cache/apt/archives/partial/*.deb "$r"/var/cache/apt/*.bin
  rm -rf "$r/debootstrap"
  find "$r/var/log" -type f -delete
  # Docker bind-mounts these at run time; don't bake the host's into the image.
  : > "$r/etc/resolv.conf"; : > "$r/etc/hostname"
  rm -f "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
  find "$r/tmp" "$r/var/tmp" -mindepth 1 -delete
}

build_debian_slim() {
  local rootfs
  rootfs=$(mktemp -d /var/tmp/dfopt-rootfs.XXXXXX)
  # shellcheck disable=SC2064  # expand now: the trap must remove this dir
  trap "rm -rf '$rootfs'" EXIT
  log "debootstrap --variant=minbase bookworm (about a minute)"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$DEBIAN_MIRROR" >"$CACHE/debootstrap.log" 2>&1; then
    tail -n 20 "$CACHE/debootstrap.log" >&2
    die "debootstrap failed; see $CACHE/debootstrap.log"
  fi
  configure_rootfs "$rootfs"
  log "importing rootfs as debian:bookworm-slim"
  tar -C "$rootfs" --numeric-owner -c . | "$DOCKER" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL $RECIPE_LABEL=$1" \
    --message 'dfopt stand-in: debootstrap --variant=minbase bookworm + official-image apt/dpkg config' \
    - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
}

build_base() {  # build_base DIR TAG RECIPE  -- Dockerfile under bench/base-images
  local blog="$CACHE/build-$1.log" nocache=()
  [ "${DFOPT_REBUILD:-0}" = 1 ] && nocache=(--no-cache)
  log "building $2 from bench/base-images/$1"
  if ! DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain "${nocache[@]}" --label "$RECIPE_LABEL=$3" \
       -t "$2" "$ROOT/bench/base-images/$1" >"$blog" 2>&1; then
    tail -n 30 "$blog" >&2
    die "building $2 failed; full log: $blog"
  fi
}

mkdir -p "$CACHE"
# build_standin DIR TAG PARENT_TAG ALIAS...: (re)build TAG from
# bench/base-images/DIR if its recipe changed, then point the aliases at it.
build_standin() {
  local dir=$1 tag=$2 parent=$3 recipe; shift 3
  recipe=$(dir_recipe "$dir" "$parent")
  if needs_build "$tag" "$recipe"; then
    remember_old "$tag"
    build_base "$dir" "$tag" "$recipe"
    DONE+=("built $tag")
  fi
  tag_all "$tag" "$@"
}

DEBIAN_RECIPE=$({ declare -f configure_rootfs build_debian_slim; echo "$DEBIAN_MIRROR"; } | sha256sum | cut -d' ' -f1)
if needs_build debian:bookworm-slim "$DEBIAN_RECIPE"; then
  remember_old debian:bookworm-slim
  build_debian_slim "$DEBIAN_RECIPE"
  DONE+=("built debian:bookworm-slim")
fi
tag_all debian:bookworm-slim debian:bookworm debian:12 debian:12-slim debian:latest

build_standin python-slim python:3.11-slim debian:bookworm-slim \
  python:3.11-slim-bookworm python:3.10-slim python:3.10-slim-bookworm \
  python:3.9-slim python:3.9-slim-bookworm python:3-slim python:slim
build_standin python-full python:3.11 python:3.11-slim \
  python:3.11-bookworm python:3.10 python:3.10-bookworm python:3.9 python:3.9-bookworm \
  python:3 python:latest
build_standin ubuntu ubuntu:22.04 debian:bookworm-slim \
  ubuntu:20.04 ubuntu:latest ubuntu:jammy ubuntu:focal

# Replaced stand-ins: delete them, newest first, unless a tag outside the lists
# above still names them (checked first: `image rm ID` would silently drop an
# image's only tag) or an image made by the classic builder records them as
# its parent (`image rm` refuses).  Images BuildKit built on them (e.g. the
# benchmark's from before the rebuild) keep working: they hold their layers.
for ((i = ${#OLD_IDS[@]} - 1; i >= 0; i--)); do
  old=${OLD_IDS[i]}
  tags=$("$DOCKER" image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null) || continue
  if [ "$tags" -ne 0 ] || ! "$DOCKER" image rm "$old" >/dev/null 2>&1; then
    log "kept the replaced image ${old:7:12} (still tagged or used by another image)"
  fi
done

# ---------------------------------------------------------------------------
# 4. Offline Python packages -> bench/.cache/vendor, copied into each app
# ---------------------------------------------------------------------------
if out=$(bash "$ROOT/scripts/build-vendor.sh"); then
  [ -n "$out" ] && DONE+=("$out")
else
  die "building the vendored packages failed"
fi
bash "$ROOT/scripts/prepare-apps.sh" >/dev/null

elapsed=$(( $(date +%s) - START_TS ))
if [ "${#DONE[@]}" -eq 0 ]; then
  echo "setup-docker: everything already in place (dockerd up, $driver_now; images present; vendor current) in ${elapsed}s"
else
  summary=$(IFS=';'; echo "${DONE[*]}")
  echo "setup-docker: ${summary//;/; } in ${elapsed}s"
fi
