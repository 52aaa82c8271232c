/**
 * Alpine packages that only matter while compiling (guide 004's
 * `apk add --virtual .build-deps … && apk del .build-deps`), and for each
 * -dev package the runtime package holding the shared library a compiled
 * extension links to, which must stay once the -dev package goes. A -dev
 * package missing here is never put in the build group.
 */

/** Compilers, headers and build tools: nothing at run time links to them. */
export const APK_BUILD_TOOLS: ReadonlySet<string> = new Set([
  "build-base",
  "gcc",
  "g++",
  "make",
  "musl-dev",
  "libc-dev",
  "linux-headers",
  "cmake",
  "autoconf",
  "automake",
  "libtool",
  "pkgconf",
  "pkgconfig",
  "cargo",
  "rust",
  "python3-dev",
  "python2-dev",
  "python-dev",
]);

/** -dev package → the runtime package that keeps its shared library. */
export const APK_DEV_RUNTIME: ReadonlyMap<string, string> = new Map([
  ["libffi-dev", "libffi"],
  ["zlib-dev", "zlib"],
  ["jpeg-dev", "libjpeg-turbo"],
  ["libjpeg-turbo-dev", "libjpeg-turbo"],
  ["libpng-dev", "libpng"],
  ["freetype-dev", "freetype"],
  ["libxml2-dev", "libxml2"],
  ["libxslt-dev", "libxslt"],
  // libpq is its own package since Alpine 3.15; older releases call it postgresql-libs.
  ["postgresql-dev", "libpq"],
  ["libpq-dev", "libpq"],
  ["mariadb-dev", "mariadb-connector-c"],
  ["mariadb-connector-c-dev", "mariadb-connector-c"],
  // The CLI package depends on the libssl/libcrypto of the release, whatever its soname.
  ["openssl-dev", "openssl"],
  ["libressl-dev", "libressl"],
  ["yaml-dev", "yaml"],
  ["lcms2-dev", "lcms2"],
  ["tiff-dev", "tiff"],
  ["libwebp-dev", "libwebp"],
  ["pcre-dev", "pcre"],
  ["readline-dev", "readline"],
  ["sqlite-dev", "sqlite-libs"],
  ["bzip2-dev", "libbz2"],
  ["xz-dev", "xz-libs"],
  ["gmp-dev", "gmp"],
  ["geos-dev", "geos"],
  ["libsodium-dev", "libsodium"],
  ["libevent-dev", "libevent"],
  ["curl-dev", "libcurl"],
]);

/** Alpine releases before 3.15 ship libpq inside postgresql-libs. */
export function runtimePackageFor(dev: string, alpine: [number, number] | null): string | undefined {
  const runtime = APK_DEV_RUNTIME.get(dev);
  if (runtime === "libpq" && alpine && (alpine[0] < 3 || (alpine[0] === 3 && alpine[1] < 15))) {
    return "postgresql-libs";
  }
  return runtime;
}
