/**
 * Where each package manager keeps its download cache, which commands read
 * or write it, and what turns it off or wipes it. The cache-mounts pass
 * mounts these directories as BuildKit cache mounts; other passes (chain-runs,
 * hygiene) can ask the same table what a mount at a path holds.
 *
 * Every entry is plain data; the few rules that need code (HOME, ENV
 * overrides, the base image's own layout) are `Location` steps resolved by
 * `resolveCacheDirs`, in order, first match wins — the order each tool
 * itself uses.
 */
import { rememberBounded } from "../../src/memo.js";

/** One cache a RUN can keep in a cache mount. */
export type CacheId =
  | "pip"
  | "uv"
  | "poetry"
  | "apt-archives"
  | "apt-lists"
  | "apk"
  | "npm"
  | "yarn"
  | "pnpm"
  | "go-build"
  | "go-mod"
  | "cargo";

/**
 * How a step finds the cache directory:
 * - `env`: the variable's value (`/append` added) when the variable is set;
 * - `root`: a fixed path used only when the tool runs as root;
 * - `home`: `$HOME/<path>` (HOME from ENV, or the user's home);
 * - `image`: a fixed path when the stage builds on an image that sets it up
 *   (the official golang image's GOPATH=/go);
 * - `mentions`: `$HOME/<path>` when the stage's RUNs mention the installer
 *   that creates that layout (rustup puts CARGO_HOME in ~/.cargo);
 * - `fixed`: system paths, the same for every user.
 */
export type Location =
  | { readonly kind: "env"; readonly name: string; readonly append?: string; readonly firstOfList?: boolean }
  | { readonly kind: "root"; readonly path: string }
  | { readonly kind: "home"; readonly path: string }
  | { readonly kind: "image"; readonly image: RegExp; readonly path: string }
  | { readonly kind: "mentions"; readonly text: RegExp; readonly path: string }
  | { readonly kind: "fixed"; readonly paths: readonly string[] };

/** A tool subcommand that wipes (part of) the cache. */
export interface CacheCleanup {
  /** Static words right after the tool: `["cache", "purge"]` for `pip cache purge`. */
  readonly args: readonly string[];
  /**
   * What happens when it is left in a RUN with the mount: `harmless` (it
   * only empties the mounted cache), or `fails` (it deletes the mount point
   * itself, which fails with EBUSY and fails the RUN).
   */
  readonly leftInPlace: "harmless" | "fails";
  /** Extra words that must all be present (`--force` is not needed, `-modcache` is). */
  readonly withWord?: string;
}

export interface CacheSpec {
  readonly id: CacheId;
  /** Command names (basename) or package-manager ids that use this cache. */
  readonly tools: readonly string[];
  /** Subcommands that read or write the cache; "any" for every call. */
  readonly subcommands: readonly string[] | "any";
  /** Subcommands that never need the cache even under "any". */
  readonly exceptSubcommands?: readonly string[];
  /** Where the cache lives; first step that applies wins. */
  readonly location: readonly Location[];
  /** Mount these subdirectories of the location instead of the location itself. */
  readonly subdirs?: readonly string[];
  /** `sharing=locked` when the tool can't share its cache with a parallel build. */
  readonly locked: boolean;
  /** Words on the call that turn the cache off (removed with the mount). */
  readonly disablingFlags: readonly string[];
  /** Prefixes of a long option the tool also accepts as that flag (optparse abbreviations). */
  readonly disablingFlagPrefix?: { readonly full: string; readonly shortest: string };
  /** Environment variables that turn the cache off. `any`: every value does. */
  readonly disablingEnv: readonly { readonly name: string; readonly values: "any" | "truthy" }[];
  /** Flags on the call that name the cache directory (`--cache-dir DIR`). */
  readonly dirFlags: readonly string[];
  /** Variables that move the cache (for `VAR=x tool` prefixes and `export VAR`). */
  readonly dirEnv: readonly string[];
  readonly cleanups: readonly CacheCleanup[];
  /**
   * Text in a RUN (or ENV) of the stage family that means the tool must find
   * its files in the image without downloading (`--offline`): a mount would
   * hide what an earlier layer put there, so the cache is left alone.
   */
  readonly offline: readonly RegExp[];
  /** CMD/ENTRYPOINT text meaning the image uses the cache at run time. */
  readonly runtime: readonly RegExp[];
  /** Human name for reasons. */
  readonly label: string;
}

const XDG = (sub: string): Location => ({ kind: "env", name: "XDG_CACHE_HOME", append: sub });

export const CACHE_SPECS: readonly CacheSpec[] = [
  {
    // pip: ~/.cache/pip (appdirs user_cache_dir) holds http responses and built wheels.
    id: "pip",
    label: "pip",
    tools: ["pip"],
    subcommands: ["install", "download", "wheel"],
    location: [{ kind: "env", name: "PIP_CACHE_DIR" }, XDG("pip"), { kind: "home", path: ".cache/pip" }],
    locked: false,
    disablingFlags: ["--no-cache-dir"],
    // pip parses options with optparse, which accepts any unambiguous prefix.
    disablingFlagPrefix: { full: "--no-cache-dir", shortest: "--no-cache" },
    // pip disables its cache for every value of PIP_NO_CACHE_DIR, "0" and "false" included.
    disablingEnv: [{ name: "PIP_NO_CACHE_DIR", values: "any" }],
    dirFlags: ["--cache-dir"],
    dirEnv: ["PIP_CACHE_DIR", "XDG_CACHE_HOME", "HOME"],
    cleanups: [
      { args: ["cache", "purge"], leftInPlace: "harmless" },
      { args: ["cache", "remove"], leftInPlace: "harmless" },
    ],
    offline: [],
    runtime: [],
  },
  {
    // uv: ~/.cache/uv; installs copy out of it when it sits on another filesystem.
    id: "uv",
    label: "uv",
    tools: ["uv"],
    subcommands: ["pip", "sync", "add", "lock", "run", "tool", "venv", "build", "export"],
    location: [{ kind: "env", name: "UV_CACHE_DIR" }, XDG("uv"), { kind: "home", path: ".cache/uv" }],
    locked: false,
    disablingFlags: ["--no-cache", "-n"],
    disablingEnv: [{ name: "UV_NO_CACHE", values: "truthy" }],
    dirFlags: ["--cache-dir"],
    dirEnv: ["UV_CACHE_DIR", "XDG_CACHE_HOME", "HOME"],
    cleanups: [
      // `uv cache clean` removes the cache root itself.
      { args: ["cache", "clean"], leftInPlace: "fails" },
      { args: ["cache", "prune"], leftInPlace: "harmless" },
    ],
    offline: [/--offline\b/, /\bUV_OFFLINE\b/],
    runtime: [/\buvx\b/, /\buv\s+tool\s+run\b/],
  },
  {
    // poetry: the cache dir also holds virtualenvs/ (the project's installed
    // environment when virtualenvs.in-project is off), so only its download
    // caches are mounted, never the whole directory.
    id: "poetry",
    label: "poetry",
    tools: ["poetry"],
    subcommands: ["install", "add", "update", "lock", "sync"],
    location: [{ kind: "env", name: "POETRY_CACHE_DIR" }, XDG("pypoetry"), { kind: "home", path: ".cache/pypoetry" }],
    subdirs: ["cache", "artifacts"],
    locked: false,
    disablingFlags: ["--no-cache"],
    disablingEnv: [],
    dirFlags: [],
    dirEnv: ["POETRY_CACHE_DIR", "XDG_CACHE_HOME", "HOME"],
    cleanups: [{ args: ["cache", "clear"], leftInPlace: "harmless" }],
    offline: [],
    runtime: [],
  },
  {
    // apt: .debs in /var/cache/apt/archives and pkgcache.bin next to them.
    // Every apt front end opens that cache, so every call gets the mount
    // once docker-clean (which turns both off) is removed.
    id: "apt-archives",
    label: "apt",
    tools: ["apt-get", "apt", "apt-cache", "apt-mark", "aptitude"],
    subcommands: "any",
    exceptSubcommands: ["clean", "autoclean"],
    location: [{ kind: "fixed", paths: ["/var/cache/apt"] }],
    // apt locks its cache; parallel builds sharing it would fail.
    locked: true,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: [],
    dirEnv: [],
    cleanups: [
      { args: ["clean"], leftInPlace: "harmless" },
      { args: ["autoclean"], leftInPlace: "harmless" },
    ],
    offline: [],
    runtime: [],
  },
  {
    // apt-get update writes the package lists; install reads them. Only
    // lists/ is mounted, not /var/lib/apt: extended_states (which packages
    // were installed automatically) lives there too, and in a cache shared
    // by every build it would let `apt-get autoremove` remove packages.
    id: "apt-lists",
    label: "apt lists",
    tools: ["apt-get", "apt"],
    subcommands: ["update"],
    location: [{ kind: "fixed", paths: ["/var/lib/apt/lists"] }],
    locked: true,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: [],
    dirEnv: [],
    cleanups: [],
    offline: [],
    runtime: [],
  },
  {
    // apk keeps indexes in /var/cache/apk, and packages only when
    // /etc/apk/cache exists (then it uses that for both); the mount creates it.
    id: "apk",
    label: "apk",
    tools: ["apk"],
    subcommands: ["add", "upgrade", "update", "fix", "fetch"],
    location: [{ kind: "fixed", paths: ["/var/cache/apk", "/etc/apk/cache"] }],
    locked: false,
    disablingFlags: ["--no-cache"],
    disablingEnv: [],
    dirFlags: ["--cache-dir"],
    dirEnv: [],
    cleanups: [
      { args: ["cache", "clean"], leftInPlace: "harmless" },
      { args: ["cache", "purge"], leftInPlace: "harmless" },
    ],
    offline: [/--no-network\b/],
    runtime: [],
  },
  {
    // npm: ~/.npm (_cacache inside).
    id: "npm",
    label: "npm",
    tools: ["npm"],
    subcommands: [
      "install",
      "i",
      "ci",
      "add",
      "update",
      "up",
      "upgrade",
      "install-test",
      "it",
      "install-ci-test",
      "cit",
    ],
    location: [
      { kind: "env", name: "npm_config_cache" },
      { kind: "env", name: "NPM_CONFIG_CACHE" },
      { kind: "home", path: ".npm" },
    ],
    locked: false,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: ["--cache"],
    dirEnv: ["npm_config_cache", "NPM_CONFIG_CACHE", "HOME"],
    cleanups: [
      { args: ["cache", "clean"], leftInPlace: "harmless" },
      { args: ["cache", "clear"], leftInPlace: "harmless" },
      { args: ["cache", "rm"], leftInPlace: "harmless" },
    ],
    offline: [/--offline\b/, /\bnpm_config_offline\b/i],
    runtime: [/\bnpx\b/, /\bnpm\s+(exec|x)\b/],
  },
  {
    // Yarn 1: as root its "home" is /usr/local/share (yarn's user-home-dir.js),
    // otherwise ~/.cache/yarn; XDG_CACHE_HOME wins over both.
    id: "yarn",
    label: "yarn",
    tools: ["yarn"],
    subcommands: ["install", "add", "upgrade", "global"],
    location: [
      { kind: "env", name: "YARN_CACHE_FOLDER" },
      XDG("yarn"),
      { kind: "root", path: "/usr/local/share/.cache/yarn" },
      { kind: "home", path: ".cache/yarn" },
    ],
    // Yarn 1's cache is not safe for concurrent writers.
    locked: true,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: ["--cache-folder"],
    dirEnv: ["YARN_CACHE_FOLDER", "XDG_CACHE_HOME", "HOME"],
    cleanups: [{ args: ["cache", "clean"], leftInPlace: "harmless" }],
    // Yarn 2+ keeps its cache elsewhere (.yarn/cache, ~/.yarn/berry).
    offline: [/--offline\b/, /\bcorepack\b/, /\byarn\s+set\s+version\b/, /\.yarnrc\.yml\b/],
    runtime: [/\byarn\s+dlx\b/],
  },
  {
    // pnpm's default store path depends on its version and on which
    // filesystem the project is on; only an explicit one is mounted
    // (PNPM_HOME as in pnpm's Docker guide, or store-dir).
    id: "pnpm",
    label: "pnpm",
    tools: ["pnpm"],
    subcommands: ["install", "i", "add", "update", "up"],
    location: [
      { kind: "env", name: "npm_config_store_dir" },
      { kind: "env", name: "NPM_CONFIG_STORE_DIR" },
      { kind: "env", name: "PNPM_HOME", append: "store" },
    ],
    locked: false,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: ["--store-dir"],
    dirEnv: ["npm_config_store_dir", "NPM_CONFIG_STORE_DIR", "PNPM_HOME"],
    cleanups: [{ args: ["store", "prune"], leftInPlace: "harmless" }],
    // `pnpm fetch` fills the store for a later `pnpm install --offline`.
    offline: [/--offline\b/, /\bpnpm\s+fetch\b/],
    runtime: [/\bpnpm\s+dlx\b/, /\bpnpx\b/],
  },
  {
    // go build cache: GOCACHE, else os.UserCacheDir()/go-build.
    id: "go-build",
    label: "Go build",
    tools: ["go"],
    subcommands: ["build", "install", "test", "run", "vet"],
    location: [{ kind: "env", name: "GOCACHE" }, XDG("go-build"), { kind: "home", path: ".cache/go-build" }],
    locked: false,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: [],
    dirEnv: ["GOCACHE", "XDG_CACHE_HOME", "HOME"],
    cleanups: [{ args: ["clean"], withWord: "-cache", leftInPlace: "harmless" }],
    offline: [],
    runtime: [],
  },
  {
    // go module cache: GOMODCACHE, else $GOPATH/pkg/mod; the golang image sets GOPATH=/go.
    id: "go-mod",
    label: "Go modules",
    tools: ["go"],
    subcommands: ["build", "install", "test", "run", "vet", "get", "mod", "list", "work"],
    location: [
      { kind: "env", name: "GOMODCACHE" },
      { kind: "env", name: "GOPATH", append: "pkg/mod", firstOfList: true },
      { kind: "image", image: /(^|\/)golang(:|@|$)/, path: "/go/pkg/mod" },
    ],
    locked: false,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: [],
    dirEnv: ["GOMODCACHE", "GOPATH", "HOME"],
    // `go clean -modcache` removes the directory itself.
    cleanups: [{ args: ["clean"], withWord: "-modcache", leftInPlace: "fails" }],
    offline: [/\bGOPROXY\s*=\s*["']?off\b/],
    runtime: [/\bgo\s+(run|build|test|install|get|mod)\b/],
  },
  {
    // cargo: registry index/crates and git checkouts under CARGO_HOME (the
    // rust image sets /usr/local/cargo; rustup's default is ~/.cargo). bin/
    // holds installed binaries and is never mounted.
    id: "cargo",
    label: "cargo",
    tools: ["cargo"],
    subcommands: [
      "build",
      "install",
      "fetch",
      "test",
      "run",
      "check",
      "update",
      "doc",
      "clippy",
      "vendor",
      "generate-lockfile",
      "tree",
      "metadata",
      "b",
      "t",
      "r",
      "c",
    ],
    location: [
      { kind: "env", name: "CARGO_HOME" },
      { kind: "image", image: /(^|\/)rust(:|@|$)/, path: "/usr/local/cargo" },
      { kind: "mentions", text: /\bsh\.rustup\.rs\b|\brustup-init\b/, path: ".cargo" },
    ],
    subdirs: ["registry", "git"],
    locked: false,
    disablingFlags: [],
    disablingEnv: [],
    dirFlags: [],
    dirEnv: ["CARGO_HOME", "HOME"],
    cleanups: [],
    offline: [/--offline\b/, /--frozen\b/, /\bCARGO_NET_OFFLINE\b/],
    runtime: [],
  },
];

export function cacheSpec(id: CacheId): CacheSpec {
  return CACHE_SPECS.find((s) => s.id === id)!;
}

/** What `resolveCacheDirs` needs to know about the RUN. */
export interface DirContext {
  /** ENV/ARG values in effect (after the call's own `VAR=x` prefixes); null value: set but unknown. */
  readonly env: ReadonlyMap<string, string | null>;
  /** HOME of the user the call runs as, or null when unknown. */
  readonly home: string | null;
  readonly isRoot: boolean;
  /** The external image the stage builds on, lower-case, or null when unknown. */
  readonly baseImage: string | null;
  /** Text of the stage family's RUNs (for `mentions` steps). */
  readonly familyText: string;
}

export type ResolvedDirs = { readonly dirs: readonly string[] } | { readonly unknown: string };

/** The directories to mount for a cache, or why they can't be known. */
export function resolveCacheDirs(spec: CacheSpec, ctx: DirContext): ResolvedDirs {
  const base = resolveBase(spec, ctx);
  if ("unknown" in base) return base;
  const dirs = spec.subdirs ? base.dirs.flatMap((d) => spec.subdirs!.map((s) => joinPath(d, s))) : base.dirs;
  return { dirs: dirs.map(normalizePath) };
}

function resolveBase(spec: CacheSpec, ctx: DirContext): ResolvedDirs {
  for (const step of spec.location) {
    switch (step.kind) {
      case "env": {
        if (!ctx.env.has(step.name)) break;
        let value = ctx.env.get(step.name) ?? null;
        if (value === null) return { unknown: `${step.name} is set to a value only known at build time` };
        if (step.firstOfList) value = value.split(":")[0]!;
        // An empty variable is ignored by every tool here (Go, pip, npm…).
        if (value === "") break;
        if (!value.startsWith("/")) return { unknown: `${step.name}=${value} is not an absolute path` };
        return { dirs: [step.append ? joinPath(value, step.append) : value] };
      }
      case "root":
        if (ctx.isRoot) return { dirs: [step.path] };
        break;
      case "home":
        if (ctx.home === null) return { unknown: "the home directory of the RUN's user is unknown" };
        return { dirs: [joinPath(ctx.home, step.path)] };
      case "image":
        if (ctx.baseImage !== null && step.image.test(ctx.baseImage)) return { dirs: [step.path] };
        break;
      case "mentions":
        if (step.text.test(ctx.familyText)) {
          if (ctx.home === null) return { unknown: "the home directory of the RUN's user is unknown" };
          return { dirs: [joinPath(ctx.home, step.path)] };
        }
        break;
      case "fixed":
        return { dirs: step.paths };
    }
  }
  return { unknown: unknownLocation(spec) };
}

function unknownLocation(spec: CacheSpec): string {
  switch (spec.id) {
    case "pnpm":
      return "pnpm's store location depends on its version and the filesystem; set PNPM_HOME or store-dir to cache it";
    case "go-mod":
      return "GOPATH is unknown for this base image (set GOPATH or GOMODCACHE)";
    case "cargo":
      return "CARGO_HOME is unknown for this base image (set CARGO_HOME)";
    default:
      return `${spec.label}'s cache directory is unknown`;
  }
}

function joinPath(dir: string, sub: string): string {
  return `${dir.replace(/\/+$/, "")}/${sub}`;
}

/** Paths repeat across RUNs and passes (cache targets, `rm -rf` operands): remember them, bounded. */
const normalized = new Map<string, string>();

export function normalizePath(path: string): string {
  let result = normalized.get(path);
  if (result === undefined) {
    result = normalizeUncached(path);
    rememberBounded(normalized, path, result, 4096);
  }
  return result;
}

function normalizeUncached(path: string): string {
  let p = path.replace(/\/+/g, "/");
  if (p.length > 1) p = p.replace(/\/$/, "");
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "." || part === "") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

/**
 * How a path a command names relates to a mounted cache directory:
 * - `mountpoint`: it is the mount target itself;
 * - `ancestor`: it holds the target (`/root/.cache` for `/root/.cache/pip`);
 * - `inside`: it lies in the mounted cache;
 * - `unrelated`.
 * Globs are matched as the shell would (`*` does not match a leading dot):
 * `/root/*` leaves `/root/.cache/pip` alone; a glob that can name the target
 * or one of its parents (`/root/.cache/*`, `/var/cache/*`) counts as a
 * parent, since it may name the target's siblings too.
 */
export type PathRelation = "mountpoint" | "ancestor" | "inside" | "unrelated";

export function pathRelation(path: string, target: string): PathRelation {
  const t = normalizePath(target);
  if (!/[*?[]/.test(path)) {
    const p = normalizePath(path);
    if (p === t) return "mountpoint";
    if (p === "/" || t.startsWith(`${p}/`)) return "ancestor";
    if (p.startsWith(`${t}/`)) return "inside";
    return "unrelated";
  }
  const pattern = globToRegExp(normalizePath(path));
  // Does the glob name the target or one of its ancestors?
  const parts = t.split("/").filter(Boolean);
  for (let n = 1; n <= parts.length; n++) {
    const candidate = `/${parts.slice(0, n).join("/")}`;
    // A glob that names the target may name its siblings too: treat it as a parent.
    if (pattern.test(candidate)) return "ancestor";
  }
  // Otherwise, is everything it can name inside the target?
  const fixedPrefix = path.slice(0, path.search(/[*?[]/));
  const dir = fixedPrefix.slice(0, fixedPrefix.lastIndexOf("/") + 1);
  if (dir !== "" && `${normalizePath(dir)}/`.startsWith(`${t}/`)) return "inside";
  return "unrelated";
}

const globs = new Map<string, RegExp>();

function globToRegExp(glob: string): RegExp {
  let re = globs.get(glob);
  if (!re) {
    re = compileGlob(glob);
    if (globs.size >= 1024) globs.clear();
    globs.set(glob, re);
  }
  return re;
}

function compileGlob(glob: string): RegExp {
  let re = "";
  const segments = glob.split("/");
  segments.forEach((segment, k) => {
    if (k > 0) re += "/";
    for (let i = 0; i < segment.length; i++) {
      const c = segment[i]!;
      const atStart = i === 0;
      if (c === "*") re += atStart ? "(?!\\.)[^/]*" : "[^/]*";
      else if (c === "?") re += atStart ? "(?!\\.)[^/]" : "[^/]";
      else if (c === "[") {
        const close = segment.indexOf("]", i + 2);
        if (close < 0) re += "\\[";
        else {
          const body = segment
            .slice(i + 1, close)
            .replace(/^!/, "^")
            .replace(/\\/g, "\\\\");
          re += `[${body}]`;
          i = close;
        }
      } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
    }
  });
  return new RegExp(`^${re}$`);
}

/** Words that name a path's components, for guessing what an unresolved path could be. */
export function targetComponents(target: string): string[] {
  const generic = new Set(["", "root", "var", "usr", "local", "share", "lib", "home", "etc", "cache", "pkg"]);
  return normalizePath(target)
    .split("/")
    .filter((c) => !generic.has(c));
}
