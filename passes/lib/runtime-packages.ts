/**
 * Which system packages a pip install needs only to BUILD (compilers,
 * headers) and which shared libraries the compiled extensions still need at
 * RUN time. The builder-runner pass keeps build packages in a throw-away
 * builder stage and installs only the `runtime` column in the final image.
 *
 * One entry per build package family: `build` lists the names (and aliases)
 * an install line may use, `runtime` the packages that ship the shared
 * libraries an extension built against those headers links to. An empty
 * `runtime` means "headers or tools only: nothing to install at run time".
 *
 * Debian names are for bookworm (Debian 12) and every runtime name is checked
 * by test/builder-runner.test.ts with `apt-cache show` (each one is also a
 * direct or virtual dependency of its -dev package, checked by hand with
 * `apt-cache depends`). Alpine names follow the aports package split (the
 * `-dev` subpackage of a library's main package).
 */

export type DistroFamily = "debian" | "alpine";

export interface RuntimeEntry {
  /** Build package names an install line may use for this library or tool. */
  readonly build: readonly string[];
  /** Packages the built extensions need at run time; empty for headers/tools only. */
  readonly runtime: readonly string[];
}

/** Debian 12 (bookworm). */
export const DEBIAN_BOOKWORM: readonly RuntimeEntry[] = [
  // Compilers, build drivers and C library headers: nothing at run time
  // (libc6, libgcc-s1 and libstdc++6 are already in every Debian image).
  { build: ["build-essential"], runtime: [] },
  { build: ["gcc", "cpp"], runtime: [] },
  { build: ["g++"], runtime: [] },
  { build: ["clang"], runtime: [] },
  // `make` is not here: images keep it as a task runner (`docker run img make docs`).
  { build: ["cmake", "ninja-build", "meson", "autoconf", "automake", "libtool"], runtime: [] },
  { build: ["pkg-config", "pkgconf"], runtime: [] },
  { build: ["libc6-dev", "libc-dev", "linux-libc-dev", "dpkg-dev", "binutils"], runtime: [] },
  { build: ["swig", "cython3"], runtime: [] },
  { build: ["cargo", "rustc"], runtime: [] },
  // Fortran extensions link libgfortran.
  { build: ["gfortran"], runtime: ["libgfortran5"] },
  // Python headers: extensions do not link libpython on Debian.
  {
    build: [
      "python3-dev",
      "python-dev",
      "python-dev-is-python3",
      "libpython3-dev",
      "python3-all-dev",
      "python2-dev",
      "python2.7-dev",
      "python-all-dev",
    ],
    runtime: [],
  },
  // Libraries: -dev package -> the shared library package it depends on.
  { build: ["libpq-dev"], runtime: ["libpq5"] },
  { build: ["libjpeg-dev", "libjpeg62-turbo-dev"], runtime: ["libjpeg62-turbo"] },
  { build: ["libffi-dev"], runtime: ["libffi8"] },
  { build: ["libxml2-dev"], runtime: ["libxml2"] },
  { build: ["libxslt1-dev", "libxslt-dev"], runtime: ["libxslt1.1"] },
  { build: ["libssl-dev"], runtime: ["libssl3"] },
  { build: ["zlib1g-dev", "libz-dev"], runtime: ["zlib1g"] },
  { build: ["libyaml-dev"], runtime: ["libyaml-0-2"] },
  { build: ["libmariadb-dev", "libmariadb-dev-compat", "default-libmysqlclient-dev"], runtime: ["libmariadb3"] },
  { build: ["libgeos-dev"], runtime: ["libgeos-c1v5"] },
  { build: ["libcurl4-openssl-dev"], runtime: ["libcurl4"] },
  { build: ["libcurl4-gnutls-dev"], runtime: ["libcurl3-gnutls"] },
  { build: ["libsqlite3-dev"], runtime: ["libsqlite3-0"] },
  { build: ["libbz2-dev"], runtime: ["libbz2-1.0"] },
  { build: ["liblzma-dev"], runtime: ["liblzma5"] },
  { build: ["libpng-dev"], runtime: ["libpng16-16"] },
  { build: ["libfreetype6-dev", "libfreetype-dev"], runtime: ["libfreetype6"] },
  // python-xmlsec links both the core library and its OpenSSL backend.
  { build: ["libxmlsec1-dev"], runtime: ["libxmlsec1", "libxmlsec1-openssl"] },
  { build: ["libmagic-dev"], runtime: ["libmagic1"] },
  { build: ["libldap2-dev", "libldap-dev"], runtime: ["libldap-2.5-0"] },
  { build: ["libsasl2-dev"], runtime: ["libsasl2-2"] },
  // python-gssapi links libgssapi_krb5 as well as libkrb5.
  { build: ["libkrb5-dev"], runtime: ["libkrb5-3", "libgssapi-krb5-2"] },
  { build: ["libpcre3-dev"], runtime: ["libpcre3"] },
  { build: ["libevent-dev"], runtime: ["libevent-2.1-7"] },
  { build: ["libev-dev"], runtime: ["libev4"] },
  { build: ["libgmp-dev"], runtime: ["libgmp10"] },
  { build: ["libopenblas-dev"], runtime: ["libopenblas0"] },
  { build: ["libblas-dev"], runtime: ["libblas3"] },
  { build: ["liblapack-dev"], runtime: ["liblapack3"] },
  { build: ["libgdal-dev"], runtime: ["libgdal32"] },
  { build: ["libproj-dev"], runtime: ["libproj25"] },
  { build: ["unixodbc-dev"], runtime: ["libodbc2", "libodbcinst2"] },
  { build: ["libsnappy-dev"], runtime: ["libsnappy1v5"] },
  { build: ["libzstd-dev"], runtime: ["libzstd1"] },
  { build: ["liblz4-dev"], runtime: ["liblz4-1"] },
  { build: ["libtiff-dev", "libtiff5-dev"], runtime: ["libtiff6"] },
  { build: ["libwebp-dev"], runtime: ["libwebp7", "libwebpdemux2", "libwebpmux3"] },
  { build: ["libopenjp2-7-dev"], runtime: ["libopenjp2-7"] },
  { build: ["liblcms2-dev"], runtime: ["liblcms2-2"] },
  { build: ["libharfbuzz-dev"], runtime: ["libharfbuzz0b"] },
  { build: ["libfribidi-dev"], runtime: ["libfribidi0"] },
  { build: ["libcairo2-dev"], runtime: ["libcairo2"] },
  { build: ["libsystemd-dev"], runtime: ["libsystemd0"] },
  { build: ["libdbus-1-dev"], runtime: ["libdbus-1-3"] },
  { build: ["libglib2.0-dev"], runtime: ["libglib2.0-0"] },
  { build: ["libncurses-dev", "libncurses5-dev", "libncursesw5-dev"], runtime: ["libncursesw6", "libtinfo6"] },
  { build: ["libreadline-dev"], runtime: ["libreadline8"] },
  { build: ["libgdbm-dev"], runtime: ["libgdbm6"] },
  { build: ["uuid-dev"], runtime: ["libuuid1"] },
  { build: ["libcap-dev"], runtime: ["libcap2"] },
  { build: ["libseccomp-dev"], runtime: ["libseccomp2"] },
  { build: ["libsodium-dev"], runtime: ["libsodium23"] },
  { build: ["libzmq3-dev"], runtime: ["libzmq5"] },
  { build: ["libhdf5-dev"], runtime: ["libhdf5-103-1"] },
  { build: ["libmemcached-dev"], runtime: ["libmemcached11"] },
  { build: ["libaio-dev"], runtime: ["libaio1"] },
  { build: ["libpcap-dev"], runtime: ["libpcap0.8"] },
  { build: ["libusb-1.0-0-dev"], runtime: ["libusb-1.0-0"] },
  { build: ["portaudio19-dev"], runtime: ["libportaudio2"] },
  { build: ["libsndfile1-dev"], runtime: ["libsndfile1"] },
  { build: ["libgpgme-dev"], runtime: ["libgpgme11"] },
  { build: ["libjansson-dev"], runtime: ["libjansson4"] },
  { build: ["libjemalloc-dev"], runtime: ["libjemalloc2"] },
  { build: ["libicu-dev"], runtime: ["libicu72"] },
  { build: ["libprotobuf-dev"], runtime: ["libprotobuf32"] },
  { build: ["libspatialindex-dev"], runtime: ["libspatialindex6"] },
  { build: ["libexpat1-dev"], runtime: ["libexpat1"] },
  { build: ["libgeoip-dev"], runtime: ["libgeoip1"] },
  { build: ["libmaxminddb-dev"], runtime: ["libmaxminddb0"] },
  { build: ["libacl1-dev"], runtime: ["libacl1"] },
  { build: ["libattr1-dev"], runtime: ["libattr1"] },
  { build: ["libnss3-dev"], runtime: ["libnss3"] },
  { build: ["librdkafka-dev"], runtime: ["librdkafka1"] },
  { build: ["libsnmp-dev"], runtime: ["libsnmp40"] },
  { build: ["libgirepository1.0-dev"], runtime: ["libgirepository-1.0-1"] },
  { build: ["libpango1.0-dev"], runtime: ["libpango-1.0-0", "libpangocairo-1.0-0"] },
];

/** Alpine (aports `main`). */
export const ALPINE: readonly RuntimeEntry[] = [
  // Tools and headers. musl and libgcc come with every Alpine image.
  { build: ["gcc", "musl-dev", "libc-dev", "linux-headers", "binutils"], runtime: [] },
  { build: ["cmake", "samurai", "autoconf", "automake", "libtool"], runtime: [] },
  { build: ["pkgconf", "pkgconfig"], runtime: [] },
  { build: ["cargo", "rust"], runtime: [] },
  { build: ["python3-dev", "python2-dev", "python-dev"], runtime: [] },
  // C++ extensions link libstdc++, which Alpine images do not ship;
  // build-base pulls in g++.
  { build: ["g++", "build-base", "alpine-sdk"], runtime: ["libstdc++"] },
  { build: ["gfortran"], runtime: ["libgfortran"] },
  // Libraries.
  { build: ["postgresql-dev", "libpq-dev"], runtime: ["libpq"] },
  { build: ["jpeg-dev", "libjpeg-turbo-dev"], runtime: ["libjpeg-turbo"] },
  { build: ["libffi-dev"], runtime: ["libffi"] },
  // `openssl` depends on whichever libssl the release ships (1.1 or 3).
  { build: ["openssl-dev"], runtime: ["openssl"] },
  { build: ["libressl-dev"], runtime: ["libressl"] },
  { build: ["zlib-dev"], runtime: ["zlib"] },
  { build: ["libxml2-dev"], runtime: ["libxml2"] },
  { build: ["libxslt-dev"], runtime: ["libxslt"] },
  { build: ["yaml-dev"], runtime: ["yaml"] },
  { build: ["mariadb-dev", "mariadb-connector-c-dev"], runtime: ["mariadb-connector-c"] },
  { build: ["geos-dev"], runtime: ["geos"] },
  { build: ["curl-dev"], runtime: ["libcurl"] },
  { build: ["sqlite-dev"], runtime: ["sqlite-libs"] },
  { build: ["bzip2-dev"], runtime: ["libbz2"] },
  { build: ["xz-dev"], runtime: ["xz-libs"] },
  { build: ["libpng-dev"], runtime: ["libpng"] },
  { build: ["freetype-dev"], runtime: ["freetype"] },
  { build: ["openldap-dev"], runtime: ["libldap"] },
  { build: ["krb5-dev"], runtime: ["krb5-libs"] },
  { build: ["libevent-dev"], runtime: ["libevent"] },
  { build: ["gmp-dev"], runtime: ["gmp"] },
  { build: ["pcre-dev"], runtime: ["pcre"] },
  { build: ["tiff-dev"], runtime: ["tiff"] },
  { build: ["libwebp-dev"], runtime: ["libwebp"] },
  { build: ["lcms2-dev"], runtime: ["lcms2"] },
  { build: ["openjpeg-dev"], runtime: ["openjpeg"] },
  { build: ["unixodbc-dev"], runtime: ["unixodbc"] },
  { build: ["libsodium-dev"], runtime: ["libsodium"] },
  { build: ["zeromq-dev"], runtime: ["libzmq"] },
  { build: ["snappy-dev"], runtime: ["snappy"] },
  { build: ["openblas-dev"], runtime: ["openblas"] },
  { build: ["readline-dev"], runtime: ["readline"] },
  { build: ["ncurses-dev"], runtime: ["ncurses-libs"] },
];

/**
 * Runtime names that are the same from Debian jessie (8) to bookworm (12):
 * the library's soname did not change. An image on an older Debian release
 * (an old python:X.Y tag, `-bullseye`, `debian:buster`…) can install these
 * by the bookworm name; the others (libffi8, libssl3, libldap-2.5-0…) were
 * renamed with a soname bump and are only right on bookworm. This list comes
 * from the Debian archive's history, not from apt-cache (only bookworm's
 * index is on this machine), so it is kept to long-stable libraries.
 */
export const DEBIAN_STABLE_NAMES: ReadonlySet<string> = new Set([
  "libpq5",
  "zlib1g",
  "libxml2",
  "libxslt1.1",
  "libjpeg62-turbo",
  "libyaml-0-2",
  "libbz2-1.0",
  "liblzma5",
  "libsqlite3-0",
  "libfreetype6",
  "libsasl2-2",
  "libkrb5-3",
  "libgssapi-krb5-2",
  "libmagic1",
  "libpcre3",
  "libxmlsec1",
  "libxmlsec1-openssl",
  "libev4",
  "libgmp10",
  "liblcms2-2",
  "libexpat1",
  "libacl1",
  "libattr1",
  "libuuid1",
  "libcap2",
  "libdbus-1-3",
  "libglib2.0-0",
  "libcairo2",
  "libharfbuzz0b",
  "libfribidi0",
  "libblas3",
  "liblapack3",
  "libaio1",
  "libpcap0.8",
  "libusb-1.0-0",
  "libportaudio2",
  "libsndfile1",
  "libgeoip1",
  "libnss3",
  "libgpgme11",
  "libjansson4",
  "libcurl3-gnutls",
  "libsystemd0",
]);

export type PackageRole =
  /** A known build package; `runtime` is what the final image needs instead. */
  | { readonly kind: "build"; readonly runtime: readonly string[] }
  /** Looks like a build package (`*-dev`) but its runtime library is unknown. */
  | { readonly kind: "unmapped-build" }
  /** Anything else (curl, git, python3, libpq5…): the app may use it at run time. */
  | { readonly kind: "other" };

const INDEX: Record<DistroFamily, ReadonlyMap<string, RuntimeEntry>> = {
  debian: indexOf(DEBIAN_BOOKWORM),
  alpine: indexOf(ALPINE),
};

function indexOf(entries: readonly RuntimeEntry[]): ReadonlyMap<string, RuntimeEntry> {
  const map = new Map<string, RuntimeEntry>();
  for (const entry of entries) for (const name of entry.build) map.set(name, entry);
  return map;
}

/**
 * The bare package name of an install word: `libpq-dev=15.*` (apt version
 * pin), `gcc:amd64` (architecture), `gcc/bookworm` (release),
 * `postgresql-dev>15` and `gcc~12` (apk constraints) all name the package
 * before the operator.
 */
export function packageName(word: string): string {
  return word.split(/[=:/<>~]/)[0]!;
}

export function classifyPackage(distro: DistroFamily, word: string): PackageRole {
  const name = packageName(word);
  const entry = INDEX[distro].get(name);
  if (entry) return { kind: "build", runtime: entry.runtime };
  // Versioned compilers and headers (`gcc-12`, `g++-11`, `python3.9-dev`…).
  if (/^(gcc|g\+\+|cpp|clang)-\d+(\.\d+)?$/.test(name)) return { kind: "build", runtime: [] };
  if (/^(lib)?python\d(\.\d+)?-dev$/.test(name)) return { kind: "build", runtime: [] };
  if (/-dev$/.test(name) || /-devel$/.test(name)) return { kind: "unmapped-build" };
  return { kind: "other" };
}

/**
 * python3-pip's `Recommends` on Debian (bullseye, bookworm) and Ubuntu
 * (focal, jammy): compilers and Python headers, there so `pip install` can
 * build C extensions. An `apt-get install python3-pip` without
 * `--no-install-recommends` installs them (hundreds of MB) although the
 * Dockerfile never names them; builder-runner treats them as build packages
 * installed by that line.
 */
export const PIP_RECOMMENDED_BUILD: readonly string[] = ["build-essential", "python3-dev"];

/** The apt names of pip itself whose recommends are `PIP_RECOMMENDED_BUILD`. */
export function isAptPip(word: string): boolean {
  return /^python3(\.\d+)?-pip$/.test(packageName(word));
}

/**
 * Packages that do not depend (directly or through their dependencies,
 * Depends/Pre-Depends only) on build-essential or python3-dev. The runner's
 * install may tell apt-get not to install those two (`build-essential-
 * python3-dev-`) only when every package it installs is here or in a
 * `runtime` column above: if one of them needed them, apt-get would fail
 * instead of skipping a recommendation. Checked with `apt-cache depends
 * --recurse` on bookworm by test/builder-runner.test.ts.
 */
export const NO_BUILD_DEPENDS: ReadonlySet<string> = new Set([
  "python3",
  "python3-minimal",
  "python3-pip",
  "python3-venv",
  "python3-setuptools",
  "python3-wheel",
  "python3-distutils",
  "python3-pkg-resources",
  "python-is-python3",
  "ca-certificates",
  "curl",
  "wget",
  "git",
  "tzdata",
  "locales",
  "netbase",
  "gnupg",
  "unzip",
  "xz-utils",
  "procps",
  "tini",
  "dumb-init",
  "openssl",
  "less",
  "nano",
  "vim-tiny",
]);

const RUNTIME_NAMES: ReadonlySet<string> = new Set(DEBIAN_BOOKWORM.flatMap((e) => e.runtime));

/** Whether excluding `PIP_RECOMMENDED_BUILD` can't break an install of `word` (see NO_BUILD_DEPENDS). */
export function installsWithoutBuildPackages(word: string): boolean {
  const name = packageName(word);
  return NO_BUILD_DEPENDS.has(name) || RUNTIME_NAMES.has(name) || /^python3\.\d+(-minimal|-venv)?$/.test(name);
}
