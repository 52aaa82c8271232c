/**
 * Official Docker images that publish both an Alpine and a Debian variant,
 * and the shape of the Debian tag. Only tags known to exist are produced:
 * a converted FROM that names a missing tag breaks the build outright.
 *
 * The version tracks were read from docker-library/repo-info (one file per
 * published tag, kept after a tag stops being updated): e.g. python's first
 * `-slim-bookworm` patch releases are 3.7.17, 3.8.17, 3.9.17, 3.10.12 and
 * 3.11.4; node's are 16.20.0, 18.16.0, 20.3.0; golang's 1.19.10 and 1.20.5;
 * ruby's 3.1.4 and 3.2.2; php's 8.1.20 and 8.2.7; nginx's 1.25.1.
 */

/**
 * A version line with Debian tags from `from` on (all of it when absent).
 * `exact` tracks are a floating tag only (`python:3`): they vouch for no
 * version below them.
 */
export interface Track {
  readonly version: string;
  readonly from?: string;
  readonly exact?: boolean;
}

export interface ImageFamily {
  /** Repository name as on Docker Hub (`python`, `library/python`, `docker.io/library/python`). */
  readonly repository: string;
  /** Debian releases with tag data, each with its version tracks and aliases (`lts`, `stable`…). */
  readonly releases: Readonly<
    Record<string, { readonly tracks: readonly Track[]; readonly aliases: readonly string[] }>
  >;
  /** Variant words allowed between the version and `alpine` (`fpm` in `php:8.2-fpm-alpine`). */
  readonly variants: readonly string[];
  /** Suffixes allowed after `alpine[3.NN]-` (`perl` in `nginx:1.25-alpine-perl`). */
  readonly suffixes: readonly string[];
  /** Whether a tag without version or alias (`python:alpine`) has a Debian twin. */
  readonly bareTag: boolean;
  /** Whether patch-level tags (`7.2.4-alpine`) are known to exist in Debian form. */
  readonly patchTags: boolean;
  /** Builds the Debian tag. `version` is a version or alias, or "" for a bare tag. */
  readonly debianTag: (version: string, variant: string, suffix: string, release: string) => string;
  /**
   * Debian packages the Debian image already has on top of debian:<release>-slim.
   * The pass never marks these for removal. Null when not known: removals
   * (`apk del`) in such stages are then unsafe.
   */
  readonly preinstalled: readonly string[] | null;
  /** Whether the Debian image has ca-certificates (every Alpine image has the CA bundle). */
  readonly caCertificates: boolean;
  /** Set when the Debian image differs in a way the build may depend on. */
  readonly unsafe?: string;
}

const join = (...parts: string[]) => parts.filter((p) => p !== "").join("-");

const BOOKWORM_ONLY = (tracks: readonly Track[], aliases: readonly string[] = []) => ({
  bookworm: { tracks, aliases },
});

export const IMAGE_FAMILIES: readonly ImageFamily[] = [
  {
    repository: "python",
    releases: BOOKWORM_ONLY([
      { version: "3", exact: true },
      { version: "3.7", from: "3.7.17" },
      { version: "3.8", from: "3.8.17" },
      { version: "3.9", from: "3.9.17" },
      { version: "3.10", from: "3.10.12" },
      { version: "3.11", from: "3.11.4" },
      { version: "3.12" },
      { version: "3.13" },
      { version: "3.14" },
    ]),
    variants: [],
    suffixes: [],
    bareTag: true,
    patchTags: true,
    debianTag: (v, _variant, _suffix, release) => join(v, "slim", release),
    preinstalled: [
      "ca-certificates",
      "netbase",
      "tzdata",
      "libssl3",
      "libsqlite3-0",
      "libffi8",
      "libreadline8",
      "libncursesw6",
      "libbz2-1.0",
      "liblzma5",
      "libexpat1",
      "zlib1g",
      "libuuid1",
      "libgdbm6",
      "libdb5.3",
      "libnsl2",
      "libtirpc3",
    ],
    caCertificates: true,
  },
  {
    repository: "node",
    releases: BOOKWORM_ONLY(
      [
        { version: "16", from: "16.20.0" },
        { version: "18", from: "18.16.0" },
        { version: "20", from: "20.3.0" },
        { version: "21" },
        { version: "22" },
        { version: "23" },
        { version: "24" },
      ],
      ["lts", "current", "hydrogen", "iron", "jod", "krypton"],
    ),
    variants: [],
    suffixes: [],
    bareTag: true,
    patchTags: true,
    debianTag: (v, _variant, _suffix, release) => join(v, release, "slim"),
    // node:*-slim marks everything automatic and purges what node does not link.
    preinstalled: [],
    caCertificates: false,
  },
  {
    repository: "golang",
    releases: BOOKWORM_ONLY([
      { version: "1", exact: true },
      { version: "1.19", from: "1.19.10" },
      { version: "1.20", from: "1.20.5" },
      { version: "1.21" },
      { version: "1.22" },
      { version: "1.23" },
      { version: "1.24" },
      { version: "1.25" },
    ]),
    variants: [],
    suffixes: [],
    bareTag: true,
    patchTags: true,
    debianTag: (v, _variant, _suffix, release) => join(v, release),
    // buildpack-deps:<release>-scm plus golang's own C toolchain.
    preinstalled: [
      "ca-certificates",
      "curl",
      "gnupg",
      "dirmngr",
      "netbase",
      "wget",
      "git",
      "mercurial",
      "openssh-client",
      "subversion",
      "procps",
      "g++",
      "gcc",
      "libc6-dev",
      "make",
      "pkg-config",
    ],
    caCertificates: true,
  },
  {
    repository: "ruby",
    releases: BOOKWORM_ONLY([
      { version: "3", exact: true },
      { version: "3.1", from: "3.1.4" },
      { version: "3.2", from: "3.2.2" },
      { version: "3.3" },
      { version: "3.4" },
    ]),
    variants: [],
    suffixes: [],
    bareTag: true,
    patchTags: true,
    debianTag: (v, _variant, _suffix, release) => join(v, "slim", release),
    preinstalled: [
      "bzip2",
      "ca-certificates",
      "libffi-dev",
      "libgmp-dev",
      "libssl-dev",
      "libyaml-dev",
      "procps",
      "zlib1g-dev",
    ],
    caCertificates: true,
  },
  {
    repository: "php",
    releases: BOOKWORM_ONLY([
      { version: "8", exact: true },
      { version: "8.1", from: "8.1.20" },
      { version: "8.2", from: "8.2.7" },
      { version: "8.3" },
      { version: "8.4" },
    ]),
    variants: ["cli", "fpm", "zts"],
    suffixes: [],
    bareTag: false,
    patchTags: true,
    debianTag: (v, variant, _suffix, release) => join(v, variant || "cli", release),
    // $PHPIZE_DEPS stay installed in the Debian images.
    preinstalled: [
      "autoconf",
      "dpkg-dev",
      "file",
      "g++",
      "gcc",
      "libc6-dev",
      "make",
      "pkg-config",
      "re2c",
      "ca-certificates",
      "curl",
      "xz-utils",
    ],
    caCertificates: true,
    unsafe: "www-data is uid 82 in php's Alpine images and uid 33 in its Debian images",
  },
  {
    repository: "nginx",
    releases: BOOKWORM_ONLY(
      [
        { version: "1", exact: true },
        { version: "1.25", from: "1.25.1" },
        { version: "1.26" },
        { version: "1.27" },
        { version: "1.28" },
        { version: "1.29" },
      ],
      ["mainline", "stable"],
    ),
    variants: [],
    suffixes: ["perl"],
    bareTag: true,
    patchTags: true,
    debianTag: (v, _variant, suffix, release) => join(v, release, suffix),
    preinstalled: ["nginx", "gettext-base", "curl", "ca-certificates"],
    caCertificates: true,
  },
  {
    repository: "redis",
    releases: BOOKWORM_ONLY([
      { version: "6", exact: true },
      { version: "6.0" },
      { version: "6.2" },
      { version: "7", exact: true },
      { version: "7.0" },
      { version: "7.2" },
      { version: "7.4" },
    ]),
    variants: [],
    suffixes: [],
    bareTag: true,
    patchTags: false,
    debianTag: (v, _variant, _suffix, release) => join(v, release),
    preinstalled: null,
    caCertificates: false,
    unsafe: "the redis group is gid 1000 in redis's Alpine images and gid 999 in its Debian images",
  },
  {
    repository: "postgres",
    releases: BOOKWORM_ONLY([
      { version: "11" },
      { version: "12" },
      { version: "13" },
      { version: "14" },
      { version: "15" },
      { version: "16" },
      { version: "17" },
    ]),
    variants: [],
    suffixes: [],
    bareTag: true,
    patchTags: false,
    debianTag: (v, _variant, _suffix, release) => join(v, release),
    preinstalled: null,
    caCertificates: false,
    unsafe:
      "the postgres user is uid 70 in postgres's Alpine images and uid 999 in its Debian images (data volume ownership)",
  },
];

/** Debian releases `alpine:*` can become (`debian:<release>-slim`). */
export const DEBIAN_SLIM_RELEASES: ReadonlySet<string> = new Set(["bullseye", "bookworm", "trixie"]);

/**
 * Packages of debian:bookworm-slim that matter here (never marked for
 * removal). From docker-library/repo-info's package list of the image.
 */
export const DEBIAN_SLIM_PACKAGES: readonly string[] = [
  "adduser",
  "apt",
  "base-files",
  "base-passwd",
  "bash",
  "bsdutils",
  "coreutils",
  "dash",
  "debconf",
  "debian-archive-keyring",
  "debianutils",
  "diffutils",
  "dpkg",
  "findutils",
  "gpgv",
  "grep",
  "gzip",
  "hostname",
  "init-system-helpers",
  "libc-bin",
  "libc6",
  "libgcc-s1",
  "libstdc++6",
  "login",
  "mawk",
  "mount",
  "ncurses-base",
  "ncurses-bin",
  "passwd",
  "perl-base",
  "sed",
  "sysvinit-utils",
  "tar",
  "tzdata",
  "util-linux",
  "zlib1g",
  "liblzma5",
  "libbz2-1.0",
  "libzstd1",
  "libuuid1",
];

export type ImageResolution =
  | {
      readonly kind: "convert";
      readonly image: string;
      readonly family: ImageFamily | null;
      /** Set when the Debian tag may carry another version than the Alpine one (a frozen alpineX.Y tag). */
      readonly unsafe?: string;
    }
  | { readonly kind: "refuse"; readonly reason: string }
  /** Not an Alpine-based reference at all. */
  | { readonly kind: "other" };

interface ImageRef {
  /** Everything before the repository's last component (`docker.io/library/`). */
  readonly prefix: string;
  readonly name: string;
  readonly tag: string | null;
  readonly digest: string | null;
  readonly official: boolean;
}

function parseRef(ref: string): ImageRef {
  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  let tag: string | null = null;
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const prefix = rest.slice(0, slash + 1);
  const name = rest.slice(slash + 1);
  const official = ["", "library/", "docker.io/", "docker.io/library/", "index.docker.io/library/"].includes(
    prefix.toLowerCase(),
  );
  return { prefix, name, tag, digest, official };
}

/** True for references that evidently name an Alpine-based image. */
export function looksAlpine(ref: string): boolean {
  const { name, tag, prefix } = parseRef(ref);
  return /alpine/i.test(name) || /alpine/i.test(tag ?? "") || /alpine/i.test(prefix);
}

const VERSION = /^\d+(\.\d+){0,2}$/;

function compareVersions(a: string, b: string): number {
  const pa = a.split(".").map(Number);
  const pb = b.split(".").map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Whether `version` (e.g. 3.11, 3.11.4, 20) has a Debian tag on these tracks. */
function versionSupported(version: string, tracks: readonly Track[], patchTags: boolean): boolean {
  const parts = version.split(".");
  for (let n = parts.length; n >= 1; n--) {
    const prefix = parts.slice(0, n).join(".");
    const track = tracks.find((t) => t.version === prefix);
    if (!track) continue;
    if (n === parts.length) return true;
    if (track.exact) continue;
    // A more precise version than the track: must be new enough, and the
    // family must publish tags at that precision.
    if (!patchTags) return false;
    return track.from === undefined || compareVersions(version, track.from) >= 0;
  }
  return false;
}

/** Images whose major version is a release line (node 20, postgres 16): a major tag does not float across them. */
const MAJOR_IS_RELEASE_LINE: ReadonlySet<string> = new Set(["node", "postgres"]);

/**
 * The Debian reference for an Alpine-based one, or why there is none.
 * `ref` is the FROM image as written (no variables).
 */

export function resolveAlpineImage(ref: string, release: string): ImageResolution {
  if (!looksAlpine(ref)) return { kind: "other" };
  const parsed = parseRef(ref);
  if (parsed.digest !== null) {
    return {
      kind: "refuse",
      reason: `${ref} is pinned by digest; a digest names one Alpine image and cannot be mapped to a Debian one`,
    };
  }
  if (!parsed.official) {
    return { kind: "refuse", reason: `${ref} is not an official image with a known Debian variant` };
  }
  const name = parsed.name.toLowerCase();
  if (name === "alpine") {
    if (!DEBIAN_SLIM_RELEASES.has(release)) {
      return { kind: "refuse", reason: `unknown Debian release "${release}"` };
    }
    return { kind: "convert", image: `${parsed.prefix}debian:${release}-slim`, family: null };
  }
  const family = IMAGE_FAMILIES.find((f) => f.repository === name);
  if (!family) {
    return { kind: "refuse", reason: `${ref}: no known Debian variant of the ${name} image` };
  }
  const tag = parsed.tag ?? "";
  const m = /^(?:(.*)-)?alpine(\d+(?:\.\d+)*)?(?:-([a-z]+))?$/.exec(tag);
  if (!m) return { kind: "refuse", reason: `${ref}: tag shape not recognised` };
  const before = m[1] ?? "";
  const alpineRelease = m[2] ?? null;
  const suffix = m[3] ?? "";
  if (suffix !== "" && !family.suffixes.includes(suffix)) {
    return { kind: "refuse", reason: `${ref}: the -${suffix} variant has no Debian twin` };
  }
  // `8.2-fpm` → version 8.2, variant fpm; `fpm` → variant only; `lts` → alias.
  const words = before === "" ? [] : before.split("-");
  let variant = "";
  if (words.length > 0 && family.variants.includes(words[words.length - 1]!)) variant = words.pop()!;
  if (words.length > 1) return { kind: "refuse", reason: `${ref}: tag shape not recognised` };
  const version = words[0] ?? "";
  const data = family.releases[release];
  if (!data) {
    return {
      kind: "refuse",
      reason: `${ref}: Debian tags of ${name} are only known for ${Object.keys(family.releases).join(", ")}`,
    };
  }
  if (version === "") {
    if (!family.bareTag)
      return { kind: "refuse", reason: `${ref}: give a version; the bare tag has no known Debian twin` };
  } else if (data.aliases.includes(version)) {
    // Aliases (`lts`, `stable`) have Debian twins.
  } else if (!VERSION.test(version) || !versionSupported(version, data.tracks, family.patchTags)) {
    return { kind: "refuse", reason: `${ref}: no ${release} tag is known for ${name} ${version}` };
  }
  const debianTag = family.debianTag(version, variant, suffix, release);
  const image = `${parsed.prefix}${parsed.name}:${debianTag}`;
  // `golang:alpine3.7`, `python:3-alpine3.8`: the tag stopped moving with that
  // Alpine release, so its version is frozen in the past while the Debian
  // tag follows the newest one. A major version is a release line only for
  // images whose majors are (node, postgres).
  const floating =
    version === "" ||
    data.aliases.includes(version) ||
    (!version.includes(".") && !MAJOR_IS_RELEASE_LINE.has(family.repository));
  if (alpineRelease !== null && floating) {
    return {
      kind: "convert",
      image,
      family,
      unsafe: `${ref} froze ${name}${version === "" ? "" : ` ${version}`} at the version current with Alpine ${alpineRelease}, while ${image} follows the newest one`,
    };
  }
  return { kind: "convert", image, family };
}
