/**
 * Which dependency-install commands read which manifest files, what they
 * write into the project directory, and whether they can run before the
 * project's sources are in the image. manifest-first-copy asks here; every
 * entry is plain data or a small reader that's easy to check against the
 * tool's documentation.
 *
 * Paths are relative to the project directory (the install's working
 * directory unless a flag such as `npm --prefix` moves it).
 */
import type { SimpleCommand } from "../../src/shell.js";
import type { CacheId } from "./cache-dirs.js";
import { packageManagerCall } from "./package-managers.js";

export type Ecosystem = "pip" | "pipenv" | "poetry" | "uv" | "npm" | "yarn" | "pnpm" | "go" | "bundler" | "composer";

export interface ManifestFile {
  /** Relative to the project directory, `/`-separated, no `./`. */
  readonly path: string;
  /**
   * The command always reads it (named on the command line, or the
   * ecosystem's main manifest): COPY names it literally. Optional files
   * (lockfiles, configs) are named only when they exist.
   */
  readonly required: boolean;
  /** A directory (e.g. `.yarn`), copied with its own COPY when it exists. */
  readonly dir?: boolean;
  /**
   * Optional files worth naming with a `name*` wildcard when the build
   * context is unknown (lockfiles). Configs are named only when the context
   * shows they exist.
   */
  readonly globWhenUnknown?: boolean;
}

/** How a manifest's contents are checked when the build context is known. */
export type ContentCheck =
  | "requirements"
  | "package-json"
  | "go-mod"
  | "pyproject-poetry"
  | "pyproject-uv"
  | "pipfile"
  | "gemfile"
  | "composer-json";

export interface ManifestInstall {
  readonly ecosystem: Ecosystem;
  /** The project directory relative to the command's working directory (`.` by default). */
  readonly projectDir: string;
  readonly manifests: readonly ManifestFile[];
  /** Files the install reads, to check for references to other files (nested -r, path deps…). */
  readonly checks: readonly { readonly path: string; readonly check: ContentCheck }[];
  /** Paths (relative to the project directory) the install writes into the project. */
  readonly outputs: readonly string[];
  /** Absolute paths (or `~/…`) it writes that could lie inside the copied tree (`pip --user`). */
  readonly absoluteOutputs: readonly string[];
  /**
   * Local package sources the install reads wholesale, relative to the
   * project directory or absolute: `pip install -f vendor`, `--find-links=`,
   * `--index-url file:///…`, PIP_FIND_LINKS. Inside the copied tree they are
   * copied before the install along with the manifests.
   */
  readonly packageDirs?: readonly string[];
  /** Why the install might read more than it shows (`-i $INDEX_URL`): makes the change unsafe. */
  readonly uncertain?: readonly string[];
  /** Paths whose existence in the context means the install needs the sources. */
  readonly needsSourceIfExists: readonly string[];
  /** Options the command has (e.g. `--ignore-scripts`), for content checks. */
  readonly flags: ReadonlySet<string>;
  /**
   * For installs that also install the project itself (`poetry install`):
   * text to append to the command for a deps-only variant that runs before
   * the full COPY, while the original runs after it.
   */
  readonly depsOnlySuffix?: string;
}

export type InstallClass =
  /** Reads only manifests (and the network); safe to run before the sources exist. */
  | { readonly kind: "deps"; readonly install: ManifestInstall }
  /** Installs the project too; has a deps-only variant (`depsOnlySuffix`). */
  | { readonly kind: "variant"; readonly install: ManifestInstall }
  /** Needs the project's sources (`pip install .`, `go build`). */
  | { readonly kind: "source"; readonly why: string }
  /** Reads nothing from the project directory (`pip install flask`, `npm i -g x`, config commands). */
  | { readonly kind: "free"; readonly outputs: readonly string[] }
  /** A command we don't recognise as an install. */
  | { readonly kind: "other" };

/** Lockfiles and configs per ecosystem, besides the main manifest. */
export const OPTIONAL_MANIFESTS: Readonly<Record<Ecosystem, readonly ManifestFile[]>> = {
  pip: [],
  pipenv: [{ path: "Pipfile.lock", required: false, globWhenUnknown: true }],
  poetry: [
    { path: "poetry.lock", required: false, globWhenUnknown: true },
    // Local poetry config (e.g. virtualenvs.in-project).
    { path: "poetry.toml", required: false },
  ],
  uv: [
    { path: "uv.lock", required: false, globWhenUnknown: true },
    // uv picks the interpreter from .python-version.
    { path: ".python-version", required: false },
    { path: "uv.toml", required: false },
  ],
  npm: [
    { path: "package-lock.json", required: false, globWhenUnknown: true },
    { path: "npm-shrinkwrap.json", required: false, globWhenUnknown: true },
    { path: ".npmrc", required: false },
  ],
  yarn: [
    { path: "yarn.lock", required: false, globWhenUnknown: true },
    { path: ".yarnrc", required: false },
    { path: ".yarnrc.yml", required: false },
    { path: ".npmrc", required: false },
    // Yarn 2+: the pinned release (yarnPath), plugins, patches and offline cache.
    { path: ".yarn", required: false, dir: true },
  ],
  pnpm: [
    { path: "pnpm-lock.yaml", required: false, globWhenUnknown: true },
    { path: ".npmrc", required: false },
    { path: ".pnpmfile.cjs", required: false },
  ],
  go: [{ path: "go.sum", required: false, globWhenUnknown: true }],
  bundler: [
    { path: "Gemfile.lock", required: false, globWhenUnknown: true },
    // App-local bundler config (BUNDLE_PATH, BUNDLE_WITHOUT…).
    { path: ".bundle", required: false, dir: true },
  ],
  composer: [
    { path: "composer.lock", required: false, globWhenUnknown: true },
    { path: "auth.json", required: false },
  ],
};

/** What each ecosystem writes inside the project directory. */
export const PROJECT_OUTPUTS: Readonly<Record<Ecosystem, readonly string[]>> = {
  pip: [],
  // In-project virtualenvs (PIPENV_VENV_IN_PROJECT, virtualenvs.in-project, uv's default).
  pipenv: [".venv"],
  poetry: [".venv"],
  uv: [".venv"],
  npm: ["node_modules"],
  yarn: ["node_modules", ".pnp.cjs", ".pnp.js", ".pnp.loader.mjs", ".yarn/install-state.gz", ".yarn/unplugged"],
  pnpm: ["node_modules"],
  go: [],
  bundler: [".bundle"],
  composer: ["vendor"],
};

/** Context files whose presence means a workspace/monorepo: the install needs other packages' manifests. */
export const WORKSPACE_FILES: Readonly<Partial<Record<Ecosystem, readonly string[]>>> = {
  pnpm: ["pnpm-workspace.yaml"],
  go: ["go.work"],
};

// ---------------------------------------------------------------------------
// Command recognition

interface Parsed {
  /** Flag name (as written, e.g. `-r`, `--requirement`) → values, in order. */
  readonly flags: { readonly name: string; readonly value: string | null }[];
  readonly positionals: (string | null)[];
  /** A word we could not classify (dynamic where a path is expected, unknown short flag…). */
  readonly unknown: string | null;
}

/**
 * Splits arguments into flags and positionals, given which flags take a
 * value. Long flags accept `--name=value` and `--name value`; short flags
 * may be clustered (`-Ur file`, `-rfile`) as optparse/yargs allow.
 */
function parseArgs(
  args: readonly (string | null)[],
  valueFlags: ReadonlySet<string>,
  options: { shortBooleans?: ReadonlySet<string>; arrayFlags?: ReadonlySet<string> } = {},
): Parsed {
  const flags: { name: string; value: string | null }[] = [];
  const positionals: (string | null)[] = [];
  let unknown: string | null = null;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === null) {
      positionals.push(null);
      continue;
    }
    if (a === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(0, eq) : a;
      if (eq >= 0) flags.push({ name, value: a.slice(eq + 1) });
      else if (options.arrayFlags?.has(name)) {
        // Thor array options (`bundle install --without dev test`) take every following word.
        while (i + 1 < args.length && args[i + 1] !== null && !args[i + 1]!.startsWith("-")) {
          flags.push({ name, value: args[++i]! });
        }
      } else if (valueFlags.has(name)) {
        flags.push({ name, value: args[++i] ?? null });
      } else flags.push({ name, value: null });
      continue;
    }
    if (a.startsWith("-") && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const name = `-${a[j]}`;
        if (valueFlags.has(name)) {
          const rest = a.slice(j + 1).replace(/^=/, "");
          flags.push({ name, value: rest !== "" ? rest : (args[++i] ?? null) });
          break;
        }
        if (options.shortBooleans && !options.shortBooleans.has(name)) unknown ??= a;
        flags.push({ name, value: null });
      }
      continue;
    }
    positionals.push(a);
  }
  return { flags, positionals, unknown };
}

function flagValues(parsed: Parsed, ...names: string[]): (string | null)[] {
  return parsed.flags.filter((f) => names.includes(f.name)).map((f) => f.value);
}

function hasFlag(parsed: Parsed, ...names: string[]): boolean {
  return parsed.flags.some((f) => names.includes(f.name));
}

function flagSet(parsed: Parsed): Set<string> {
  return new Set(parsed.flags.map((f) => f.name));
}

/** A remote location (`file://` is a local path). */
function isUrl(value: string): boolean {
  if (/^file:/i.test(value)) return false;
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) || /^git\+/.test(value) || /^(git|hg|svn|bzr)@/.test(value);
}

/** Where a `--find-links`/`--index-url` value points. */
export type PackageLocation =
  | { readonly kind: "remote" }
  /** A path as pip resolves it (relative to the working directory unless absolute). */
  | { readonly kind: "local"; readonly path: string }
  | { readonly kind: "unknown"; readonly why: string };

/**
 * pip and uv take a local path or a `file://` URL wherever they take a
 * find-links or index location (pip's `build_source`: an existing path, a
 * `file:` URL, or a remote URL). Only absolute `file:` URLs are read; `~`,
 * variables and other `file:` spellings are left unknown.
 */
export function packageLocation(value: string | null): PackageLocation {
  if (value === null) return { kind: "unknown", why: "a package location expands a variable" };
  const v = value.trim();
  if (v === "") return { kind: "unknown", why: "a package location is empty" };
  if (v.includes("$")) return { kind: "unknown", why: `the package location ${v} expands a variable` };
  const fileUrl = v.match(/^file:\/\/(?:localhost)?(\/[^?#]*)$/i);
  if (fileUrl) {
    try {
      return { kind: "local", path: decodeURIComponent(fileUrl[1]!) };
    } catch {
      return { kind: "unknown", why: `the package location ${v} is not a valid file: URL` };
    }
  }
  if (/^file:/i.test(v)) return { kind: "unknown", why: `the package location ${v} is not an absolute file:// URL` };
  if (isUrl(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return { kind: "remote" };
  if (v.startsWith("~")) return { kind: "unknown", why: `the package location ${v} depends on the home directory` };
  return { kind: "local", path: v.startsWith("/") ? v : normalizeRelative(v) };
}

/** A pip requirement argument that names something on disk rather than an index project. */
export function isLocalPipRequirement(value: string): boolean {
  const v = value.trim();
  if (isUrl(v)) return false;
  // `name @ https://…` is remote; `name @ file:///…` is local.
  const at = v.match(/^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*(.+)$/);
  if (at) return !isUrl(at[2]!.trim());
  if (v === "." || v === ".." || v.startsWith("./") || v.startsWith("../")) return true;
  if (v.startsWith("/") || v.startsWith("~") || v.startsWith("file:")) return true;
  if (/[/\\]/.test(v)) return true;
  return /\.(whl|zip|tar\.gz|tgz|tar\.bz2|tar\.xz|tar)$/i.test(v);
}

function normalizeRelative(p: string): string {
  const parts: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    parts.push(part);
  }
  return parts.join("/") || ".";
}

const PIP_VALUE_FLAGS = new Set([
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-e",
  "--editable",
  "-t",
  "--target",
  "--platform",
  "--python-version",
  "--implementation",
  "--abi",
  "--root",
  "--prefix",
  "--src",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "--upgrade-strategy",
  "--progress-bar",
  "--global-option",
  "--install-option",
  "-C",
  "--config-settings",
  "--no-binary",
  "--only-binary",
  "--trusted-host",
  "--cache-dir",
  "--log",
  "--log-file",
  "--timeout",
  "--retries",
  "--proxy",
  "--cert",
  "--client-cert",
  "--exists-action",
  "--report",
  "--root-user-action",
  "--keyring-provider",
  "--use-feature",
  "--use-deprecated",
  "--python",
  "-w",
  "--wheel-dir",
  "-d",
  "--dest",
  "--resolution",
  "--prerelease",
  "--index",
  "--default-index",
  "--index-strategy",
  "--python-platform",
  "-p",
  "--link-mode",
  "--extra",
  "--group",
]);
const PIP_SHORT_BOOLEANS = new Set(["-U", "-I", "-q", "-v", "-V", "-h"]);

/** Env vars pip reads as options; relative values would point into the project. */
const PIP_PATH_ENV = ["PIP_REQUIREMENT", "PIP_CONSTRAINT", "PIP_CONFIG_FILE", "PIP_EDITABLE"];
/**
 * Env vars naming package locations (whitespace-separated lists), which may
 * be local directories: pip's own, and uv's (uv ignores PIP_*).
 */
const PACKAGE_LOCATION_ENV = {
  pip: ["PIP_FIND_LINKS", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"],
  uv: ["UV_FIND_LINKS", "UV_INDEX_URL", "UV_EXTRA_INDEX_URL", "UV_INDEX", "UV_DEFAULT_INDEX"],
} as const;
const FIND_LINKS_FLAGS = ["-f", "--find-links"];
const INDEX_FLAGS = ["-i", "--index-url", "--extra-index-url", "--index", "--default-index"];

/**
 * The local package directories a pip/uv command reads (`-f vendor`,
 * `--index-url file:///…`, PIP_FIND_LINKS), or why it can't be told.
 */
function pipPackageDirs(
  parsed: Parsed,
  env: ReadonlyMap<string, string>,
  uv: boolean,
): { dirs: string[]; uncertain: string[] } | { why: string } {
  const dirs: string[] = [];
  const uncertain: string[] = [];
  const values: { flag: string; value: string | null }[] = [];
  for (const name of PACKAGE_LOCATION_ENV[uv ? "uv" : "pip"]) {
    const value = env.get(name);
    if (value === undefined || value === "") continue;
    for (const v of value.split(uv ? /[\s,]+/ : /\s+/)) if (v !== "") values.push({ flag: name, value: v });
  }
  for (const f of parsed.flags) {
    if (!FIND_LINKS_FLAGS.includes(f.name) && !INDEX_FLAGS.includes(f.name)) continue;
    values.push({ flag: f.name, value: f.value });
  }
  for (const { flag, value: raw } of values) {
    // uv's `--index name=url`.
    const value = flag === "--index" || flag === "UV_INDEX" ? (raw?.replace(/^[A-Za-z0-9_.-]+=/, "") ?? null) : raw;
    const location = packageLocation(value);
    if (location.kind === "local") dirs.push(location.path);
    else if (location.kind === "unknown") {
      // An index URL from a variable is nearly always a remote mirror; a find-links variable often a local dir.
      const index = INDEX_FLAGS.includes(flag) || /INDEX/.test(flag);
      if (index && (value === null || value.includes("$"))) uncertain.push(`the install's ${flag} expands a variable`);
      else return { why: `pip reads packages from ${value ?? "a path that expands a variable"} (${location.why})` };
    }
  }
  return { dirs, uncertain };
}

/**
 * `pip install|wheel|download …` (also `uv pip install|sync`). `args` are
 * the words after `pip` (or after `uv pip`).
 */
function classifyPip(args: readonly (string | null)[], env: ReadonlyMap<string, string>, uv: boolean): InstallClass {
  const sub = args.find((a) => a === null || !a.startsWith("-"));
  if (sub === null || sub === undefined) return { kind: "other" };
  if (!["install", "wheel", "download", "sync"].includes(sub)) {
    // `pip config`, `pip list`, `pip freeze`, `pip --version`… read nothing from the project.
    return ["config", "list", "freeze", "show", "check", "cache", "debug", "help", "index", "inspect"].includes(sub)
      ? { kind: "free", outputs: [] }
      : { kind: "other" };
  }
  const subIndex = args.indexOf(sub);
  const parsed = parseArgs([...args.slice(0, subIndex), ...args.slice(subIndex + 1)], PIP_VALUE_FLAGS, {
    shortBooleans: PIP_SHORT_BOOLEANS,
  });
  if (parsed.unknown !== null) return { kind: "other" };
  for (const name of PIP_PATH_ENV) {
    const value = env.get(name);
    if (value !== undefined && value !== "" && !isUrl(value)) {
      return { kind: "source", why: `${name} is set, so pip reads ${value} from the project` };
    }
  }
  const manifests: ManifestFile[] = [];
  const checks: { path: string; check: ContentCheck }[] = [];
  const addRequirementFile = (value: string | null): string | null => {
    if (value === null) return "a requirements file path expands a variable";
    if (isUrl(value)) return null;
    if (value.startsWith("/") || value.startsWith("~")) {
      manifests.push({ path: value, required: true });
      checks.push({ path: value, check: "requirements" });
      return null;
    }
    const p = normalizeRelative(value);
    if (p.startsWith("..")) return `${value} is outside the working directory`;
    manifests.push({ path: p, required: true });
    checks.push({ path: p, check: "requirements" });
    return null;
  };
  const requirementFiles = [...flagValues(parsed, "-r", "--requirement"), ...flagValues(parsed, "-c", "--constraint")];
  if (sub === "sync") requirementFiles.push(...parsed.positionals);
  for (const value of requirementFiles) {
    const problem = addRequirementFile(value);
    if (problem) return { kind: "source", why: problem };
  }
  for (const value of flagValues(parsed, "-e", "--editable")) {
    if (value === null || !isUrl(value)) {
      return {
        kind: "source",
        why: `pip install -e ${value ?? "…"} installs the project itself, which needs its sources`,
      };
    }
  }
  // Local wheelhouses are inputs like the manifests: inside the copied tree
  // they are copied first; elsewhere (`-f /wheels`) an earlier step made them.
  const packages = pipPackageDirs(parsed, env, uv);
  if ("why" in packages) return { kind: "source", why: packages.why };
  if (sub !== "sync") {
    for (const value of parsed.positionals) {
      if (value === null)
        return { kind: "source", why: "a package argument expands a variable and may be a local path" };
      if (isLocalPipRequirement(value)) {
        return { kind: "source", why: `pip ${sub} ${value} installs from a local path, which needs the sources` };
      }
    }
  }
  const outputs: string[] = [];
  const absoluteOutputs: string[] = [];
  for (const value of flagValues(
    parsed,
    "-t",
    "--target",
    "--prefix",
    "--root",
    "--src",
    "-w",
    "--wheel-dir",
    "-d",
    "--dest",
  )) {
    if (value === null) return { kind: "source", why: "an output directory expands a variable" };
    if (value.startsWith("/")) absoluteOutputs.push(value);
    else outputs.push(normalizeRelative(value));
  }
  for (const name of ["PIP_TARGET", "PIP_PREFIX", "PIP_SRC", "PIP_WHEEL_DIR"]) {
    const value = env.get(name);
    if (value === undefined || value === "") continue;
    if (value.startsWith("/")) absoluteOutputs.push(value);
    else outputs.push(normalizeRelative(value));
  }
  if (hasFlag(parsed, "--user")) absoluteOutputs.push("~/.local");
  if (manifests.length === 0 && packages.dirs.length === 0) return { kind: "free", outputs };
  return {
    kind: "deps",
    install: {
      ecosystem: uv ? "uv" : "pip",
      projectDir: ".",
      manifests,
      checks,
      outputs,
      absoluteOutputs,
      packageDirs: packages.dirs,
      uncertain: packages.uncertain,
      needsSourceIfExists: [],
      flags: flagSet(parsed),
    },
  };
}

const NPM_VALUE_FLAGS = new Set([
  "--loglevel",
  "--cache",
  "--registry",
  "--omit",
  "--include",
  "--only",
  "--prefix",
  "-C",
  "--userconfig",
  "--globalconfig",
  "--install-strategy",
  "--fetch-retries",
  "--fetch-timeout",
  "--fetch-retry-mintimeout",
  "--fetch-retry-maxtimeout",
  "--maxsockets",
  "--location",
  "--script-shell",
  "--tag",
  "--cpu",
  "--os",
  "--libc",
  "-w",
  "--workspace",
  // yarn
  "--network-timeout",
  "--cache-folder",
  "--modules-folder",
  "--cwd",
  "--mutex",
  "--mode",
  "--network-concurrency",
  "--child-concurrency",
  // pnpm
  "--store-dir",
  "--dir",
  "--filter",
  "--reporter",
  "--virtual-store-dir",
  "--node-linker",
]);

function nodeProjectDir(parsed: Parsed): string | null {
  const values = flagValues(parsed, "--prefix", "-C", "--cwd", "--dir");
  if (values.length === 0) return ".";
  const v = values[values.length - 1];
  if (v === null || v === undefined || v.startsWith("/")) return null;
  return normalizeRelative(v);
}

/** `npm ci|install`, `yarn [install]`, `pnpm install|fetch`. `args` are the words after the manager. */
function classifyNode(manager: "npm" | "yarn" | "pnpm", args: readonly (string | null)[]): InstallClass {
  const parsed = parseArgs(args, NPM_VALUE_FLAGS);
  const global = hasFlag(parsed, "-g", "--global");
  const [sub, ...rest] = parsed.positionals;
  if (sub === null) return { kind: "other" };
  if (manager === "yarn" && sub === "global") return { kind: "free", outputs: [] };
  if (global) return { kind: "free", outputs: [] };
  const installs: Record<string, readonly (string | undefined)[]> = {
    npm: ["ci", "install", "i", "clean-install", "install-clean", "isntall"],
    yarn: [undefined, "install"],
    pnpm: ["install", "i", "fetch"],
  };
  if (!installs[manager]!.includes(sub)) {
    if (sub === "config" || sub === "set" || sub === "cache" || sub === "--version" || sub === "-v")
      return { kind: "free", outputs: [] };
    if (sub === "add" || sub === "install" || sub === "i" || sub === "remove" || sub === "uninstall") {
      return { kind: "source", why: `${manager} ${sub} with package names rewrites package.json` };
    }
    return { kind: "other" };
  }
  if (rest.length > 0) {
    return { kind: "source", why: `${manager} ${sub} with package names rewrites package.json` };
  }
  if (hasFlag(parsed, "-w", "--workspace", "--workspaces", "--filter", "-r", "--recursive")) {
    return { kind: "source", why: `${manager} ${sub} installs workspace packages, which need their own manifests` };
  }
  if (hasFlag(parsed, "--modules-folder")) return { kind: "other" };
  const projectDir = nodeProjectDir(parsed);
  if (projectDir === null) return { kind: "other" };
  const fetchOnly = manager === "pnpm" && sub === "fetch";
  const manifests: ManifestFile[] = fetchOnly
    ? [
        { path: "pnpm-lock.yaml", required: true },
        { path: ".npmrc", required: false },
      ]
    : [{ path: "package.json", required: true }, ...OPTIONAL_MANIFESTS[manager]];
  return {
    kind: "deps",
    install: {
      ecosystem: manager,
      projectDir,
      manifests,
      checks: fetchOnly ? [] : [{ path: "package.json", check: "package-json" }],
      outputs: PROJECT_OUTPUTS[manager],
      absoluteOutputs: [],
      // Without an install script, npm runs `node-gyp rebuild` when binding.gyp exists.
      needsSourceIfExists: hasFlag(parsed, "--ignore-scripts") || fetchOnly ? [] : ["binding.gyp"],
      flags: flagSet(parsed),
    },
  };
}

const GO_VALUE_FLAGS = new Set(["-reuse", "-modfile", "-C"]);

function classifyGo(args: readonly (string | null)[]): InstallClass {
  const [sub, sub2] = args;
  if (sub === "mod" && (sub2 === "download" || sub2 === "verify")) {
    const parsed = parseArgs(args.slice(2), GO_VALUE_FLAGS);
    if (hasFlag(parsed, "-modfile", "-C")) return { kind: "other" };
    return {
      kind: "deps",
      install: {
        ecosystem: "go",
        projectDir: ".",
        manifests: [{ path: "go.mod", required: true }, ...OPTIONAL_MANIFESTS.go],
        checks: [{ path: "go.mod", check: "go-mod" }],
        outputs: [],
        absoluteOutputs: [],
        needsSourceIfExists: [],
        flags: flagSet(parsed),
      },
    };
  }
  if (sub === "mod" && (sub2 === "tidy" || sub2 === "vendor" || sub2 === "edit" || sub2 === "init")) {
    return { kind: "source", why: `go mod ${sub2} reads the sources or rewrites go.mod` };
  }
  if (sub === "install" || sub === "get" || sub === "run") {
    const targets = args.slice(1).filter((a) => a === null || !a.startsWith("-"));
    if (sub !== "get" && targets.length > 0 && targets.every((t) => t !== null && /@/.test(t)))
      return { kind: "free", outputs: [] };
  }
  if (sub === "env" || sub === "version") return { kind: "free", outputs: [] };
  // `go build`/`go test` compile the sources: not installs, so left to the caller as unknown commands.
  return { kind: "other" };
}

const POETRY_VALUE_FLAGS = new Set([
  "--only",
  "--with",
  "--without",
  "-E",
  "--extras",
  "-C",
  "--directory",
  "-P",
  "--project",
]);

function classifyPoetry(args: readonly (string | null)[]): InstallClass {
  const parsed = parseArgs(args, POETRY_VALUE_FLAGS);
  const [sub] = parsed.positionals;
  if (sub === "config" || sub === "self" || sub === "--version" || sub === "about")
    return { kind: "free", outputs: [] };
  if (sub !== "install" && sub !== "sync") {
    return sub === "export" || sub === "lock" || sub === "add" || sub === "update"
      ? { kind: "source", why: `poetry ${sub} reads or rewrites the project` }
      : { kind: "other" };
  }
  if (hasFlag(parsed, "--only-root"))
    return { kind: "source", why: "poetry install --only-root installs the project itself" };
  const dir = flagValues(parsed, "-C", "--directory", "-P", "--project");
  if (dir.length > 0) return { kind: "other" };
  const noRoot = hasFlag(parsed, "--no-root");
  const install: ManifestInstall = {
    ecosystem: "poetry",
    projectDir: ".",
    manifests: [{ path: "pyproject.toml", required: true }, ...OPTIONAL_MANIFESTS.poetry],
    checks: [{ path: "pyproject.toml", check: "pyproject-poetry" }],
    outputs: PROJECT_OUTPUTS.poetry,
    absoluteOutputs: [],
    needsSourceIfExists: [],
    flags: flagSet(parsed),
    ...(noRoot ? {} : { depsOnlySuffix: " --no-root" }),
  };
  return noRoot ? { kind: "deps", install } : { kind: "variant", install };
}

const UV_SYNC_VALUE_FLAGS = new Set([
  "--extra",
  "--group",
  "--only-group",
  "--no-group",
  "-p",
  "--python",
  "--index",
  "--default-index",
  "--index-url",
  "--extra-index-url",
  "--index-strategy",
  "--resolution",
  "--prerelease",
  "--link-mode",
  "--cache-dir",
  "--no-install-package",
  "--python-platform",
]);

function classifyUv(args: readonly (string | null)[], env: ReadonlyMap<string, string>): InstallClass {
  const [sub] = args;
  if (sub === "pip") return classifyPip(args.slice(1), env, true);
  if (sub === "tool" || sub === "python" || sub === "--version" || sub === "cache")
    return { kind: "free", outputs: [] };
  if (sub !== "sync")
    return sub === "lock" || sub === "add"
      ? { kind: "source", why: `uv ${sub} reads or rewrites the project` }
      : { kind: "other" };
  const parsed = parseArgs(args.slice(1), UV_SYNC_VALUE_FLAGS);
  if (parsed.positionals.length > 0) return { kind: "other" };
  if (hasFlag(parsed, "--package", "--all-packages", "--project", "--directory")) return { kind: "other" };
  const depsOnly = hasFlag(parsed, "--no-install-project") || hasFlag(parsed, "--only-dev");
  const venv = env.get("UV_PROJECT_ENVIRONMENT");
  const install: ManifestInstall = {
    ecosystem: "uv",
    projectDir: ".",
    manifests: [{ path: "pyproject.toml", required: true }, ...OPTIONAL_MANIFESTS.uv],
    checks: [{ path: "pyproject.toml", check: "pyproject-uv" }],
    outputs:
      venv === undefined || venv === "" ? PROJECT_OUTPUTS.uv : venv.startsWith("/") ? [] : [normalizeRelative(venv)],
    absoluteOutputs: venv !== undefined && venv.startsWith("/") ? [venv] : [],
    needsSourceIfExists: [],
    flags: flagSet(parsed),
    ...(depsOnly ? {} : { depsOnlySuffix: " --no-install-project" }),
  };
  return depsOnly ? { kind: "deps", install } : { kind: "variant", install };
}

function classifyPipenv(args: readonly (string | null)[]): InstallClass {
  const parsed = parseArgs(
    args,
    new Set(["--categories", "--python", "--pypi-mirror", "-r", "--requirements", "--extra-pip-args"]),
  );
  const [sub, ...rest] = parsed.positionals;
  if (sub !== "install" && sub !== "sync")
    return sub === "--version" ? { kind: "free", outputs: [] } : { kind: "other" };
  if (rest.length > 0 || hasFlag(parsed, "-r", "--requirements", "-e", "--editable")) {
    return { kind: "source", why: `pipenv ${sub} with packages rewrites the Pipfile` };
  }
  return {
    kind: "deps",
    install: {
      ecosystem: "pipenv",
      projectDir: ".",
      manifests: [{ path: "Pipfile", required: true }, ...OPTIONAL_MANIFESTS.pipenv],
      checks: [{ path: "Pipfile", check: "pipfile" }],
      outputs: PROJECT_OUTPUTS.pipenv,
      absoluteOutputs: [],
      needsSourceIfExists: [],
      flags: flagSet(parsed),
    },
  };
}

const BUNDLE_VALUE_FLAGS = new Set([
  "-j",
  "--jobs",
  "--retry",
  "--path",
  "--gemfile",
  "--trust-policy",
  "--shebang",
  "--target-rbconfig",
]);
const BUNDLE_ARRAY_FLAGS = new Set(["--without", "--with"]);

function classifyBundle(args: readonly (string | null)[], env: ReadonlyMap<string, string>): InstallClass {
  const parsed = parseArgs(args, BUNDLE_VALUE_FLAGS, { arrayFlags: BUNDLE_ARRAY_FLAGS });
  const [sub] = parsed.positionals;
  if (sub === "config") return { kind: "free", outputs: hasFlag(parsed, "--local") ? [".bundle"] : [] };
  if (sub === "--version" || sub === "version") return { kind: "free", outputs: [] };
  if (sub !== undefined && sub !== "install") {
    return sub === "update" || sub === "add" || sub === "lock" || sub === "package" || sub === "cache"
      ? { kind: "source", why: `bundle ${sub} reads or rewrites the project` }
      : { kind: "other" };
  }
  if (parsed.positionals.length > 1) return { kind: "other" };
  if (hasFlag(parsed, "--binstubs", "--standalone")) {
    return { kind: "source", why: "bundle install --binstubs/--standalone writes into the project's directories" };
  }
  if (env.has("BUNDLE_GEMFILE")) return { kind: "other" };
  const gemfileValues = flagValues(parsed, "--gemfile");
  const gemfile = gemfileValues.length > 0 ? gemfileValues[gemfileValues.length - 1] : "Gemfile";
  if (gemfile === null || gemfile === undefined || gemfile.startsWith("/")) return { kind: "other" };
  const gemfilePath = normalizeRelative(gemfile);
  const outputs = [...PROJECT_OUTPUTS.bundler];
  for (const value of [...flagValues(parsed, "--path"), env.get("BUNDLE_PATH") ?? null]) {
    if (value === null || value === "") continue;
    if (!value.startsWith("/")) outputs.push(normalizeRelative(value));
  }
  if (
    hasFlag(parsed, "--deployment") ||
    env.get("BUNDLE_DEPLOYMENT") === "true" ||
    env.get("BUNDLE_DEPLOYMENT") === "1"
  ) {
    outputs.push("vendor/bundle");
  }
  return {
    kind: "deps",
    install: {
      ecosystem: "bundler",
      projectDir: ".",
      manifests: [
        { path: gemfilePath, required: true },
        { path: `${gemfilePath}.lock`, required: false, globWhenUnknown: true },
        { path: ".bundle", required: false, dir: true },
      ],
      checks: [{ path: gemfilePath, check: "gemfile" }],
      outputs,
      absoluteOutputs: [],
      needsSourceIfExists: [],
      flags: flagSet(parsed),
    },
  };
}

function classifyComposer(args: readonly (string | null)[], env: ReadonlyMap<string, string>): InstallClass {
  const parsed = parseArgs(args, new Set(["-d", "--working-dir", "--ignore-platform-req"]));
  const [sub] = parsed.positionals;
  if (sub === "config") {
    return hasFlag(parsed, "-g", "--global")
      ? { kind: "free", outputs: [] }
      : { kind: "source", why: "composer config rewrites composer.json" };
  }
  if (sub === "global" || sub === "--version" || sub === "self-update" || sub === "selfupdate")
    return { kind: "free", outputs: [] };
  if (sub !== "install" && sub !== "i") {
    return sub === "require" || sub === "update"
      ? { kind: "source", why: `composer ${sub} reads or rewrites the project` }
      : { kind: "other" };
  }
  if (parsed.positionals.length > 1 || hasFlag(parsed, "-d", "--working-dir")) return { kind: "other" };
  if (env.has("COMPOSER") || env.has("COMPOSER_VENDOR_DIR")) return { kind: "other" };
  const noAutoloader = hasFlag(parsed, "--no-autoloader");
  if (
    !noAutoloader &&
    hasFlag(parsed, "-o", "--optimize-autoloader", "-a", "--classmap-authoritative", "--apcu-autoloader")
  ) {
    return {
      kind: "source",
      why: "composer install --optimize-autoloader scans the sources for classes; run it after COPY (or add --no-autoloader and dump-autoload later)",
    };
  }
  return {
    kind: "deps",
    install: {
      ecosystem: "composer",
      projectDir: ".",
      manifests: [{ path: "composer.json", required: true }, ...OPTIONAL_MANIFESTS.composer],
      checks: [{ path: "composer.json", check: "composer-json" }],
      outputs: PROJECT_OUTPUTS.composer,
      absoluteOutputs: [],
      needsSourceIfExists: [],
      flags: flagSet(parsed),
    },
  };
}

/** `python -m X …` / `python setup.py …` forms that are not pip. */
function classifyPython(words: readonly (string | null)[]): InstallClass {
  const rest = words.slice(1);
  const first = rest.find((w) => w === null || !w.startsWith("-") || w === "-m" || w === "-c");
  if (first === "-m") {
    const module = rest[rest.indexOf("-m") + 1];
    if (module === "venv" || module === "virtualenv") {
      const dir = rest.slice(rest.indexOf("-m") + 2).filter((w) => w === null || !w.startsWith("-"));
      if (dir.length !== 1 || dir[0] === null) return { kind: "other" };
      return { kind: "free", outputs: [dir[0]!] };
    }
    if (module === "pipenv") return classifyPipenv(rest.slice(rest.indexOf("-m") + 2));
    if (module === "poetry") return classifyPoetry(rest.slice(rest.indexOf("-m") + 2));
    return { kind: "other" };
  }
  if (first === "setup.py" || (first && first.endsWith("/setup.py"))) {
    return { kind: "source", why: "python setup.py installs the project itself, which needs its sources" };
  }
  if (rest.length === 1 && (rest[0] === "--version" || rest[0] === "-V")) return { kind: "free", outputs: [] };
  return { kind: "other" };
}

/**
 * What a dependency-related command needs: the manifests it reads, or that
 * it needs the whole project. `env` is ENV/ARG in effect plus the command's
 * own `VAR=value` prefixes.
 */
export function classifyInstall(command: SimpleCommand, env: ReadonlyMap<string, string>): InstallClass {
  const words = command.words.map((w) => w.value);
  const name = command.name;
  if (name === null) return { kind: "other" };
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (base === "pipenv") return classifyPipenv(words.slice(1));
  if (/^python(\d+(\.\d+)?)?$/.test(base)) {
    const call = packageManagerCall(command);
    if (!call) return classifyPython(words);
  }
  if (base === "virtualenv") {
    const dir = words.slice(1).filter((w) => w === null || !w.startsWith("-"));
    return dir.length === 1 && dir[0] !== null ? { kind: "free", outputs: [dir[0]!] } : { kind: "other" };
  }
  if (base === "corepack") return { kind: "free", outputs: [] };
  const call = packageManagerCall(command);
  if (!call) return { kind: "other" };
  const args = call.args;
  switch (call.manager) {
    case "pip":
      return classifyPip(args, env, false);
    case "uv":
      return classifyUv(args, env);
    case "npm":
    case "yarn":
    case "pnpm":
      return classifyNode(call.manager, args);
    case "go":
      return classifyGo(args);
    case "poetry":
      return classifyPoetry(args);
    case "bundle":
      return classifyBundle(args, env);
    case "composer":
      return classifyComposer(args, env);
    case "gem": {
      const parsed = parseArgs(
        args,
        new Set(["-v", "--version", "-i", "--install-dir", "-n", "--bindir", "--source", "-s"]),
      );
      const [sub, ...pkgs] = parsed.positionals;
      if (
        sub === "install" &&
        pkgs.every((p) => p !== null && !p.endsWith(".gem") && !p.includes("/")) &&
        !hasFlag(parsed, "-g", "--file")
      ) {
        return { kind: "free", outputs: [] };
      }
      if (sub === "update" && hasFlag(parsed, "--system")) return { kind: "free", outputs: [] };
      if (sub === "build" || sub === "install")
        return { kind: "source", why: `gem ${sub} reads the project's gemspec or .gem files` };
      return { kind: "other" };
    }
    case "cargo": {
      const sub = call.subcommand;
      if (
        sub === "install" &&
        !args.includes("--path") &&
        args.slice(1).some((a) => a !== null && !a.startsWith("-"))
      ) {
        return { kind: "free", outputs: [] };
      }
      if (sub === "fetch" || sub === "build" || sub === "install" || sub === "vendor" || sub === "test") {
        return {
          kind: "source",
          why: `cargo ${sub} needs the crate's target sources (src/main.rs or src/lib.rs), even to fetch dependencies`,
        };
      }
      return { kind: "other" };
    }
    default:
      return { kind: "other" };
  }
}

// ---------------------------------------------------------------------------
// Content checks: what a manifest says that makes a deps-only install need
// more than the manifests. Each returns the extra files it references (to
// copy along, relative to the manifest's directory) or a reason it needs
// the sources.

/** A local package location a manifest names (`--find-links ./wheels` in a requirements file). */
export interface PackageDirReference {
  /** As written (a `file://` URL already turned into its path). */
  readonly path: string;
  /**
   * pip tries a relative find-links path next to the requirements file first
   * and falls back to the working directory; index paths are always taken
   * from the working directory.
   */
  readonly nearFile: boolean;
}

export type ContentVerdict =
  | {
      readonly ok: true;
      readonly references: readonly string[];
      readonly packageDirs?: readonly PackageDirReference[];
    }
  | { readonly ok: false; readonly why: string };

/**
 * A pip requirements file: nested `-r`/`-c` files and local find-links/index
 * directories to copy too; local paths need the sources.
 */
export function checkRequirements(text: string, fileName: string): ContentVerdict {
  const references: string[] = [];
  const packageDirs: PackageDirReference[] = [];
  const joined = text.replace(/\\\r?\n/g, " ");
  for (const rawLine of joined.split(/\r?\n/)) {
    const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const option = line.match(
      /^(-r|--requirement|-c|--constraint|-e|--editable|-f|--find-links|-i|--index-url|--extra-index-url)(?:\s*=\s*|\s+|(?=[^-\s]))(.+)$/,
    );
    if (option) {
      const [, flag, valueRaw] = option;
      const value = valueRaw!.trim().split(/\s+/)[0]!;
      if (flag === "-r" || flag === "--requirement" || flag === "-c" || flag === "--constraint") {
        if (isUrl(value)) continue;
        if (value.includes("$")) return { ok: false, why: `${fileName} includes ${value}, which expands a variable` };
        references.push(value);
        continue;
      }
      if (flag === "-e" || flag === "--editable") {
        if (!isUrl(value))
          return { ok: false, why: `${fileName} installs ${value} in editable mode, which needs the sources` };
        continue;
      }
      const location = packageLocation(value);
      if (location.kind === "unknown")
        return { ok: false, why: `${fileName} reads packages from ${value}: ${location.why}` };
      if (location.kind === "local")
        packageDirs.push({ path: location.path, nearFile: flag === "-f" || flag === "--find-links" });
      continue;
    }
    if (line.startsWith("-")) continue;
    const requirement = line.split(/\s+--/)[0]!.split(";")[0]!.trim();
    if (isLocalPipRequirement(requirement)) {
      return { ok: false, why: `${fileName} installs ${requirement} from a local path, which needs the sources` };
    }
  }
  return { ok: true, references, packageDirs };
}

const ROOT_LIFECYCLE_SCRIPTS = [
  "preinstall",
  "install",
  "postinstall",
  "prepublish",
  "preprepare",
  "prepare",
  "postprepare",
];
const LOCAL_DEPENDENCY = /^(file:|link:|portal:|workspace:|exec:|patch:|\.{1,2}\/|\/|~\/)/;

/** package.json: root lifecycle scripts, workspaces and local dependencies need the sources. */
export function checkPackageJson(text: string, flags: ReadonlySet<string>): ContentVerdict {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, why: "package.json does not parse as JSON" };
  }
  if (typeof json !== "object" || json === null) return { ok: false, why: "package.json is not an object" };
  const pkg = json as Record<string, unknown>;
  if (pkg.workspaces !== undefined)
    return { ok: false, why: "package.json declares workspaces, whose manifests live in other directories" };
  if (!flags.has("--ignore-scripts") && typeof pkg.scripts === "object" && pkg.scripts !== null) {
    const scripts = pkg.scripts as Record<string, unknown>;
    const found = ROOT_LIFECYCLE_SCRIPTS.find((s) => typeof scripts[s] === "string");
    if (found)
      return {
        ok: false,
        why: `package.json has a "${found}" script, which the install runs and which may need the sources`,
      };
  }
  for (const field of ["dependencies", "devDependencies", "optionalDependencies", "peerDependencies"]) {
    const deps = pkg[field];
    if (typeof deps !== "object" || deps === null) continue;
    for (const [name, spec] of Object.entries(deps as Record<string, unknown>)) {
      if (typeof spec === "string" && LOCAL_DEPENDENCY.test(spec)) {
        return { ok: false, why: `package.json depends on ${name} from ${spec}, which is in the sources` };
      }
    }
  }
  const pnpm = pkg.pnpm;
  if (typeof pnpm === "object" && pnpm !== null && "patchedDependencies" in pnpm) {
    return { ok: false, why: "package.json patches dependencies from files in the sources" };
  }
  return { ok: true, references: [] };
}

/** go.mod: `replace` directives pointing at local directories need the sources. */
export function checkGoMod(text: string): ContentVerdict {
  const withoutComments = text.replace(/\/\/.*$/gm, "");
  const replaceLines: string[] = [];
  const block = /^\s*replace\s*\(([\s\S]*?)\)/gm;
  for (const m of withoutComments.matchAll(block)) replaceLines.push(...m[1]!.split("\n"));
  for (const m of withoutComments.matchAll(/^\s*replace\s+([^(\n].*)$/gm)) replaceLines.push(m[1]!);
  for (const line of replaceLines) {
    const target = line.split("=>")[1]?.trim().split(/\s+/)[0];
    if (
      target &&
      (target.startsWith("./") ||
        target.startsWith("../") ||
        target.startsWith("/") ||
        target === "." ||
        target === "..")
    ) {
      return { ok: false, why: `go.mod replaces a module with the local directory ${target}` };
    }
  }
  return { ok: true, references: [] };
}

/** Lines of a TOML table and its sub-tables (good enough for dependency tables). */
function tomlSections(text: string): Map<string, string> {
  const sections = new Map<string, string>();
  let current = "";
  for (const line of text.split(/\r?\n/)) {
    const header = line.match(/^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/);
    if (header) {
      current = header[1]!.replace(/\s+/g, "");
      continue;
    }
    sections.set(current, `${sections.get(current) ?? ""}${line}\n`);
  }
  return sections;
}

/** The first local package location among TOML keys (`find-links = ["vendor"]`, `url = "file:///…"`). */
function localTomlLocation(body: string, keys: readonly string[]): string | null {
  for (const key of keys) {
    const re = new RegExp(
      `^\\s*${key.replace(/[.-]/g, "\\$&")}\\s*=\\s*(\\[[\\s\\S]*?\\]|"[^"\\n]*"|'[^'\\n]*')`,
      "gm",
    );
    for (const m of body.matchAll(re)) {
      for (const v of m[1]!.matchAll(/"([^"\n]*)"|'([^'\n]*)'/g)) {
        const value = v[1] ?? v[2]!;
        if (packageLocation(value).kind !== "remote") return value;
      }
    }
  }
  return null;
}

/** pyproject.toml for `poetry install --no-root`: path dependencies still need the sources. */
export function checkPyprojectPoetry(text: string): ContentVerdict {
  for (const [name, body] of tomlSections(text)) {
    if (!name.startsWith("tool.poetry") && !name.startsWith("project")) continue;
    if (/\bpath\s*=/.test(body) || /\bdevelop\s*=\s*true/.test(body)) {
      return { ok: false, why: "pyproject.toml has a path dependency, which is in the sources" };
    }
    if (/@\s*file:/.test(body))
      return { ok: false, why: "pyproject.toml has a file: dependency, which is in the sources" };
    const local = name === "tool.poetry.source" ? localTomlLocation(body, ["url"]) : null;
    if (local !== null) return { ok: false, why: `pyproject.toml reads packages from the local source ${local}` };
  }
  return { ok: true, references: [] };
}

/** pyproject.toml for `uv sync --no-install-project`: workspaces and path sources need the sources. */
export function checkPyprojectUv(text: string): ContentVerdict {
  for (const [name, body] of tomlSections(text)) {
    if (name === "tool.uv.workspace")
      return { ok: false, why: "pyproject.toml declares a uv workspace, whose members are in the sources" };
    if (name.startsWith("tool.uv.sources") && (/\bpath\s*=/.test(body) || /\bworkspace\s*=\s*true/.test(body))) {
      return { ok: false, why: "pyproject.toml takes a dependency from a local path" };
    }
    if (name.startsWith("project") && /@\s*file:/.test(body)) {
      return { ok: false, why: "pyproject.toml has a file: dependency, which is in the sources" };
    }
    const local =
      name === "tool.uv"
        ? localTomlLocation(body, ["find-links", "index-url", "extra-index-url"])
        : name === "tool.uv.index"
          ? localTomlLocation(body, ["url"])
          : null;
    if (local !== null) return { ok: false, why: `pyproject.toml reads packages from the local directory ${local}` };
  }
  return { ok: true, references: [] };
}

/** Pipfile: path and editable dependencies need the sources. */
export function checkPipfile(text: string): ContentVerdict {
  if (/\bpath\s*=/.test(text)) return { ok: false, why: "the Pipfile installs a local path, which is in the sources" };
  const local = localTomlLocation(tomlSections(text).get("source") ?? "", ["url"]);
  if (local !== null) return { ok: false, why: `the Pipfile reads packages from the local source ${local}` };
  return { ok: true, references: [] };
}

/** Gemfile (Ruby code): only plain `gem`/`source`/`group` declarations can be read without the sources. */
export function checkGemfile(text: string): ContentVerdict {
  const references: string[] = [];
  let code = text.replace(/^\s*#.*$/gm, "");
  // `ruby file: ".ruby-version"` / `ruby File.read(".ruby-version").strip` read a version file: copy it along.
  code = code.replace(
    /File\.read\(\s*["'](\.ruby-version|\.tool-versions)["']\s*\)(\.(strip|chomp)\b)?/g,
    (_m, f: string) => {
      references.push(f);
      return '"x"';
    },
  );
  for (const m of code.matchAll(/\bfile:\s*["'](\.ruby-version|\.tool-versions)["']/g)) references.push(m[1]!);
  const needs = code.match(
    /^\s*(gemspec|eval_gemfile|require_relative|load)\b|\bpath:|:path\s*=>|\b(File|Dir|IO)\.|\bgit_source\b.*\bpath\b/m,
  );
  if (needs) return { ok: false, why: `the Gemfile uses ${needs[0]!.trim()}, which reads files from the sources` };
  return { ok: true, references: [...new Set(references)] };
}

const COMPOSER_SCRIPT_EVENTS = [
  "pre-install-cmd",
  "post-install-cmd",
  "pre-autoload-dump",
  "post-autoload-dump",
  "pre-package-install",
  "post-package-install",
  "pre-dependencies-solving",
  "post-dependencies-solving",
];

/** composer.json: install scripts, classmap autoloading and path repositories need the sources. */
export function checkComposerJson(text: string, flags: ReadonlySet<string>): ContentVerdict {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, why: "composer.json does not parse as JSON" };
  }
  if (typeof json !== "object" || json === null) return { ok: false, why: "composer.json is not an object" };
  const c = json as Record<string, unknown>;
  if (!flags.has("--no-scripts") && typeof c.scripts === "object" && c.scripts !== null) {
    const found = COMPOSER_SCRIPT_EVENTS.find((e) => e in (c.scripts as object));
    if (found)
      return {
        ok: false,
        why: `composer.json runs a ${found} script, which may need the sources (add --no-scripts to the install)`,
      };
  }
  if (!flags.has("--no-autoloader")) {
    for (const key of ["autoload", "autoload-dev"]) {
      const autoload = c[key];
      if (typeof autoload === "object" && autoload !== null && ("classmap" in autoload || "files" in autoload)) {
        return {
          ok: false,
          why: `composer.json's ${key} scans files in the sources (add --no-autoloader and run dump-autoload after COPY)`,
        };
      }
    }
  }
  const repos = c.repositories;
  if (
    Array.isArray(repos) &&
    repos.some((r) => typeof r === "object" && r !== null && (r as Record<string, unknown>).type === "path")
  ) {
    return { ok: false, why: "composer.json has a path repository, which is in the sources" };
  }
  return { ok: true, references: [] };
}

export function runContentCheck(
  check: ContentCheck,
  text: string,
  fileName: string,
  flags: ReadonlySet<string>,
): ContentVerdict {
  switch (check) {
    case "requirements":
      return checkRequirements(text, fileName);
    case "package-json":
      return checkPackageJson(text, flags);
    case "go-mod":
      return checkGoMod(text);
    case "pyproject-poetry":
      return checkPyprojectPoetry(text);
    case "pyproject-uv":
      return checkPyprojectUv(text);
    case "pipfile":
      return checkPipfile(text);
    case "gemfile":
      return checkGemfile(text);
    case "composer-json":
      return checkComposerJson(text, flags);
  }
}

/**
 * The cache (as passes/lib/cache-dirs.ts names them) a cache-mount target
 * holds, so a RUN split in two keeps each mount with the commands that use
 * it. Null for a target we can't place (it is kept on both halves).
 */
export function cacheIdOfTarget(target: string): CacheId | null {
  const rules: [RegExp, CacheId][] = [
    [/pypoetry/, "poetry"],
    [/\/uv(\/|$)/, "uv"],
    [/\/pip(\/|$)/, "pip"],
    [/\.npm(\/|$)|npm-cache/, "npm"],
    [/yarn/, "yarn"],
    [/pnpm/, "pnpm"],
    [/go-build/, "go-build"],
    [/\/pkg\/mod(\/|$)/, "go-mod"],
    [/cargo/, "cargo"],
    [/^\/var\/cache\/apt(\/|$)/, "apt-archives"],
    [/^\/var\/lib\/apt(\/|$)/, "apt-lists"],
    [/^\/(var\/cache|etc)\/apk(\/|$)/, "apk"],
  ];
  for (const [re, cacheId] of rules) if (re.test(target)) return cacheId;
  return null;
}
