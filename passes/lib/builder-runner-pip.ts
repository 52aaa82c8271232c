/**
 * What a `pip install` reads besides the package index: requirement and
 * constraint files, local find-links directories, local archives. The
 * builder-runner pass copies exactly these into its builder stage, so it
 * must know every file pip opens; anything it can't account for (a local
 * project, an editable install, a path that expands at build time) is
 * reported as a problem and the pass leaves the file alone.
 */
import type { PackageManagerCall } from "./package-managers.js";

export interface PipInstall {
  /** Index in `call.command.words` of the `install` word (where `--user` goes). */
  readonly installIndex: number;
  readonly hasUser: boolean;
  /** `-r FILE`, as written (relative to the working directory). */
  readonly requirementFiles: readonly string[];
  /** `-c FILE`. */
  readonly constraintFiles: readonly string[];
  /** `-f DIR` that are local paths (URLs are fetched, not read from disk). */
  readonly findLinks: readonly string[];
  /** Local wheel/sdist archives named on the command line. */
  readonly localArchives: readonly string[];
  /** Package specs and URLs (`flask==2.2`, `git+https://…`). */
  readonly specs: readonly string[];
  /** Why the split can't handle this install, or null. */
  readonly problem: string | null;
}

/** Long options that take a value (pip install and pip's general options). */
const LONG_WITH_VALUE = new Set([
  "requirement",
  "constraint",
  "editable",
  "target",
  "platform",
  "python-version",
  "implementation",
  "abi",
  "root",
  "prefix",
  "src",
  "upgrade-strategy",
  "index-url",
  "extra-index-url",
  "find-links",
  "config-settings",
  "global-option",
  "install-option",
  "build-option",
  "no-binary",
  "only-binary",
  "progress-bar",
  "root-user-action",
  "report",
  "proxy",
  "retries",
  "timeout",
  "exists-action",
  "trusted-host",
  "cert",
  "client-cert",
  "cache-dir",
  "log",
  "log-file",
  "local-log",
  "keyring-provider",
  "use-feature",
  "use-deprecated",
  "python",
  "group",
  "build",
]);

const LONG_FLAGS = new Set([
  "user",
  "upgrade",
  "force-reinstall",
  "ignore-installed",
  "ignore-requires-python",
  "no-deps",
  "pre",
  "no-build-isolation",
  "use-pep517",
  "no-use-pep517",
  "check-build-dependencies",
  "break-system-packages",
  "compile",
  "no-compile",
  "no-warn-script-location",
  "no-warn-conflicts",
  "prefer-binary",
  "require-hashes",
  "no-clean",
  "dry-run",
  "no-index",
  "quiet",
  "verbose",
  "no-input",
  "no-cache-dir",
  "disable-pip-version-check",
  "no-color",
  "isolated",
  "no-python-version-warning",
  "process-dependency-links",
]);

const SHORT_WITH_VALUE = new Set(["r", "c", "e", "t", "i", "f", "C", "b"]);
const SHORT_FLAGS = new Set(["U", "I", "q", "v"]);

/** Options that send packages somewhere `--user` can't go, or need the source tree. */
const REFUSED: Record<string, string> = {
  target: "installs into a --target directory",
  prefix: "installs into a --prefix",
  root: "installs under a --root",
  editable: "makes an editable install (-e), which points into the source tree",
  src: "checks out editable sources (--src)",
  python: "installs for another interpreter (--python)",
  group: "installs a dependency group from pyproject.toml",
  "require-virtualenv": "requires a virtualenv",
  build: "uses an old --build directory",
};

const SHORT_TO_LONG: Record<string, string> = {
  r: "requirement",
  c: "constraint",
  e: "editable",
  t: "target",
  i: "index-url",
  f: "find-links",
  C: "config-settings",
  b: "build",
  U: "upgrade",
  I: "ignore-installed",
  q: "quiet",
  v: "verbose",
};

const KNOWN_LONG = [...LONG_WITH_VALUE, ...LONG_FLAGS, ...Object.keys(REFUSED)];

/** pip (optparse) accepts any unambiguous prefix of a long option: `--no-cache` is `--no-cache-dir`. */
function longOption(name: string): string {
  if (KNOWN_LONG.includes(name)) return name;
  const matches = [...new Set(KNOWN_LONG.filter((o) => o.startsWith(name)))];
  return matches.length === 1 ? matches[0]! : name;
}

const URL = /^[a-z][a-z0-9+.-]*:\/\//i;
const VCS = /^(git|hg|svn|bzr)\+/i;
const ARCHIVE = /\.(whl|tar\.gz|tgz|tar\.bz2|tar\.xz|zip)$/i;

/** A command-line or requirements-file argument that names something on disk. */
export function isLocalPath(value: string): boolean {
  if (value.startsWith("file:")) return true;
  if (URL.test(value) || VCS.test(value)) return false;
  if (value.includes("@")) return /@\s*file:/.test(value);
  return /^[./~]/.test(value) || value.includes("/") || value.includes("\\") || ARCHIVE.test(value);
}

export function isArchive(value: string): boolean {
  return ARCHIVE.test(value) && !value.startsWith("file:");
}

/** `pip install -U pip setuptools wheel`: only pip's own tooling, nothing from disk. */
export function isToolingUpgrade(install: PipInstall): boolean {
  return (
    install.problem === null &&
    install.requirementFiles.length === 0 &&
    install.constraintFiles.length === 0 &&
    install.localArchives.length === 0 &&
    install.specs.length > 0 &&
    install.specs.every((s) => /^(pip|setuptools|wheel)([<>=!~].*)?$/i.test(s))
  );
}

/**
 * Reads the words of a `pip install` call. Returns null when the call is not
 * an install (`pip freeze`, `pip download`…).
 */
export function parsePipInstall(call: PackageManagerCall): PipInstall | null {
  if (call.manager !== "pip" || call.subcommand !== "install") return null;
  const words = call.command.words;
  const requirementFiles: string[] = [];
  const constraintFiles: string[] = [];
  const findLinks: string[] = [];
  const localArchives: string[] = [];
  const specs: string[] = [];
  let installIndex = -1;
  let hasUser = false;
  let problem: string | null = null;
  const fail = (why: string) => {
    problem ??= why;
  };

  const takeOption = (name: string, value: string | null) => {
    if (REFUSED[name]) fail(`pip ${REFUSED[name]}`);
    if (name === "user") hasUser = true;
    if (value === null) return;
    if (name === "requirement") requirementFiles.push(value);
    else if (name === "constraint") constraintFiles.push(value);
    else if (name === "find-links" && value.startsWith("file:")) fail(`pip reads --find-links ${value}`);
    else if (name === "find-links" && !URL.test(value)) findLinks.push(value);
  };

  for (let i = call.argsFrom; i < words.length; i++) {
    const raw = words[i]!.value;
    if (raw === null) {
      fail(`pip argument ${words[i]!.source} expands at build time`);
      continue;
    }
    if (installIndex < 0 && raw === "install") {
      installIndex = i;
      continue;
    }
    if (raw === "--") continue;
    if (raw.startsWith("--")) {
      const eq = raw.indexOf("=");
      const name = longOption(raw.slice(2, eq < 0 ? undefined : eq));
      if (LONG_WITH_VALUE.has(name) || REFUSED[name]) {
        let value: string | null;
        if (eq >= 0) value = raw.slice(eq + 1);
        else if (LONG_WITH_VALUE.has(name)) {
          value = words[i + 1]?.value ?? null;
          if (words[i + 1] && value === null) fail(`pip argument ${words[i + 1]!.source} expands at build time`);
          i++;
        } else value = null;
        takeOption(name, value);
      } else if (LONG_FLAGS.has(name)) {
        takeOption(name, null);
      } else {
        fail(`unknown pip option ${raw}`);
      }
      continue;
    }
    if (raw.startsWith("-") && raw.length > 1) {
      // A cluster of short options: `-qU`, `-rrequirements.txt`, `-Ur req.txt`.
      for (let k = 1; k < raw.length; k++) {
        const letter = raw[k]!;
        if (SHORT_WITH_VALUE.has(letter)) {
          let value: string | null = raw.slice(k + 1);
          if (value === "") {
            value = words[i + 1]?.value ?? null;
            if (words[i + 1] && value === null) fail(`pip argument ${words[i + 1]!.source} expands at build time`);
            i++;
          }
          takeOption(SHORT_TO_LONG[letter]!, value);
          break;
        }
        if (SHORT_FLAGS.has(letter)) takeOption(SHORT_TO_LONG[letter]!, null);
        else fail(`unknown pip option -${letter}`);
      }
      continue;
    }
    if (installIndex < 0) {
      fail(`pip ${raw} is not an install`);
      continue;
    }
    if (isLocalPath(raw)) {
      if (isArchive(raw)) localArchives.push(raw);
      else fail(`pip installs the local project ${raw}, which needs the whole source tree`);
    } else {
      specs.push(raw);
    }
  }
  if (installIndex < 0) return null;
  return {
    installIndex,
    hasUser,
    requirementFiles,
    constraintFiles,
    findLinks,
    localArchives,
    specs,
    problem,
  };
}

export interface RequirementsRefs {
  /** `-r` files, relative to the requirements file's own directory. */
  readonly requirementFiles: readonly string[];
  /** `-c` files, relative to the requirements file's own directory. */
  readonly constraintFiles: readonly string[];
  /** Local `--find-links` paths. */
  readonly findLinks: readonly string[];
  /** Why the file can't be copied on its own, or null. */
  readonly problem: string | null;
}

/**
 * The other files a requirements file makes pip read. pip resolves `-r` and
 * `-c` relative to the file that names them; a local project, path or
 * `file:` URL means the install needs more than this file.
 */
export function requirementsRefs(text: string): RequirementsRefs {
  const requirementFiles: string[] = [];
  const constraintFiles: string[] = [];
  const findLinks: string[] = [];
  let problem: string | null = null;
  const logical = text.replace(/\\\r?\n/g, "");
  for (const rawLine of logical.split(/\r?\n/)) {
    const line = rawLine.replace(/(^|\s)#.*$/, "").trim();
    if (line === "") continue;
    const tokens = line.split(/\s+/);
    const first = tokens[0]!;
    if (first.startsWith("-")) {
      const m = /^(--?[A-Za-z-]+)(?:=(.*))?$/.exec(first);
      let option = m?.[1] ?? first;
      let value = m?.[2] ?? tokens[1] ?? "";
      // `-rbase.txt`
      if (/^-[rcef]./.test(first)) {
        option = first.slice(0, 2);
        value = first.slice(2);
      }
      if (value.includes("$")) {
        problem ??= `${option} ${value} expands an environment variable`;
        continue;
      }
      if (option === "-r" || option === "--requirement") requirementFiles.push(value);
      else if (option === "-c" || option === "--constraint") constraintFiles.push(value);
      else if ((option === "-f" || option === "--find-links") && !URL.test(value)) findLinks.push(value);
      else if ((option === "-e" || option === "--editable") && isLocalPath(value)) {
        problem ??= `it installs ${value} in editable mode from the source tree`;
      }
      continue;
    }
    if (isLocalPath(first) || /@\s*file:/.test(line)) {
      problem ??= `it installs the local path ${first}`;
    }
  }
  return { requirementFiles, constraintFiles, findLinks, problem };
}
