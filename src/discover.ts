/**
 * Finding the Dockerfiles behind `dfopt <dirs|files|globs…>`.
 *
 * - A directory is walked recursively for files whose name looks like a
 *   Dockerfile (see `isDockerfileName`), honouring `.gitignore` and
 *   `.dfoptignore` files (nested ones too, plus those of enclosing
 *   directories up to the repository root) and never entering `.git`,
 *   `node_modules` or vendored trees (`vendor/`, `third_party/`).
 * - Symlinked directories met during a walk are not entered (as git and
 *   ripgrep do), so a symlink loop can't hang the walk; symlinked files are
 *   kept and deduplicated by their real path.
 * - A file named explicitly is always processed, whatever its name and even
 *   if .gitignore'd; only `.dfoptignore` (a deliberate "never touch this")
 *   still applies, like Prettier's `.prettierignore`.
 * - A glob (an argument that isn't an existing path and has glob characters)
 *   selects like a walk restricted to its matches; when its last segment is a
 *   literal name (`services/*\/build.docker`) the name filter is not applied.
 * - A missing path, or a directory without Dockerfiles, is a problem for
 *   that argument only; the others are still processed.
 */
import { promises as fs, type Dirent } from "node:fs";
import path from "node:path";
import ignore, { type Ignore } from "ignore";

/** `Dockerfile`, `Dockerfile.dev`, `api.Dockerfile`, `x.dockerfile`, `Containerfile`, `owner__repo__Dockerfile.3`. */
const DOCKERFILE_WORD = /(^|[._-])(dockerfile|containerfile)([._-]|$)/i;

/**
 * Extensions that mark a file as something *about* a Dockerfile rather than a
 * Dockerfile: docs, data, scripts, templates (`Dockerfile.j2`,
 * `Dockerfile.template` hold template syntax, not a buildable file), editor
 * and patch leftovers, and BuildKit's per-Dockerfile ignore file
 * (`app.Dockerfile.dockerignore`).
 */
export const NOT_DOCKERFILE_EXTENSIONS: ReadonlySet<string> = new Set(
  (
    "md markdown rst txt adoc asciidoc html htm pdf json jsonc json5 yaml yml toml ini cfg conf xml csv tsv lock log " +
    "sh bash zsh fish ps1 psm1 bat cmd py pyc rb go rs java kt scala js mjs cjs ts tsx jsx c h cc cpp hpp cs php pl " +
    "lua r swift sql proto erb j2 jinja jinja2 tpl tmpl template mustache hbs handlebars liquid njk ejs m4 in " +
    "orig rej bak old swp swo tmp patch diff dockerignore png jpg jpeg gif svg ico zip gz tgz tar bz2 xz zst 7z jar " +
    "war exe dll so dylib bin iso img pem crt key pub asc sig sha256 md5"
  ).split(" "),
);

/** Directories never walked into (they are still processed when named explicitly). */
export const SKIPPED_DIRECTORIES: ReadonlySet<string> = new Set([
  ".git",
  ".hg",
  ".svn",
  "node_modules",
  "vendor",
  "third_party",
]);

export function isDockerfileName(basename: string): boolean {
  if (!DOCKERFILE_WORD.test(basename) || basename.endsWith("~")) return false;
  const dot = basename.lastIndexOf(".");
  if (dot <= 0) return true;
  return !NOT_DOCKERFILE_EXTENSIONS.has(basename.slice(dot + 1).toLowerCase());
}

export interface DiscoveredFile {
  /** Absolute path as reached (a symlink stays a symlink here). */
  readonly path: string;
  /** The argument's directory (or the file's directory for a file argument): the fallback "repository". */
  readonly root: string;
  /** Named on the command line (as a file) rather than found by a walk or glob. */
  readonly explicit: boolean;
}

export interface DiscoveryProblem {
  /** The argument as given. */
  readonly arg: string;
  readonly message: string;
}

export interface IgnoredFile {
  readonly path: string;
  /** The ignore file that excluded it. */
  readonly by: string;
}

export interface DiscoveryResult {
  /** Sorted by path, deduplicated by real path. */
  readonly files: readonly DiscoveredFile[];
  readonly problems: readonly DiscoveryProblem[];
  /** Explicitly named files that a `.dfoptignore` excluded. */
  readonly ignored: readonly IgnoredFile[];
}

export interface DiscoverOptions {
  readonly cwd: string;
  /** Honour .gitignore / .dfoptignore (default true). */
  readonly useIgnoreFiles?: boolean;
}

type IgnoreKind = "git" | "dfopt";

interface Matcher {
  readonly base: string;
  readonly file: string;
  readonly kind: IgnoreKind;
  readonly ig: Ignore;
}

const GLOB_CHARS = /[*?[\]{}]/;

export async function discover(args: readonly string[], options: DiscoverOptions): Promise<DiscoveryResult> {
  const ignores = new IgnoreFiles(options.useIgnoreFiles ?? true);
  const found = new Map<string, DiscoveredFile>();
  const problems: DiscoveryProblem[] = [];
  const ignored: IgnoredFile[] = [];

  // The same file reached twice (a symlink, a path given twice) is kept once.
  // The choice doesn't depend on arrival order, so real paths are looked up
  // all at once (one after the other they took 225 of the corpus directory's 260 ms).
  const keep = (file: DiscoveredFile, real: string) => {
    const existing = found.get(real);
    if (!existing || (file.explicit && !existing.explicit) || (!existing.explicit && file.path < existing.path)) {
      found.set(real, file);
    }
  };
  const add = async (files: readonly DiscoveredFile[]) => {
    const reals = await Promise.all(files.map((f) => fs.realpath(f.path).catch(() => f.path)));
    files.forEach((f, i) => keep(f, reals[i]!));
  };

  for (const arg of args) {
    const abs = path.resolve(options.cwd, arg);
    let stat;
    try {
      stat = await fs.stat(abs);
    } catch (error) {
      if (GLOB_CHARS.test(arg)) {
        const before = found.size;
        await globArgument(arg, options.cwd, ignores, add);
        if (found.size === before) problems.push({ arg, message: "no Dockerfiles match this pattern" });
        continue;
      }
      problems.push({ arg, message: describeStatError(error) });
      continue;
    }
    if (stat.isDirectory()) {
      const files: DiscoveredFile[] = [];
      await walkTree(abs, abs, ignores, files);
      if (files.length === 0) {
        problems.push({
          arg,
          message:
            "no Dockerfiles found in this directory (looked for Dockerfile, Dockerfile.*, *.Dockerfile, *.dockerfile, Containerfile; .gitignore'd, node_modules, vendor and third_party trees are skipped)",
        });
      }
      await add(files);
    } else {
      const by = await ignores.ignoredBy(abs, false, ["dfopt"], ceilingFor(abs, options.cwd));
      if (by) ignored.push({ path: abs, by });
      else await add([{ path: abs, root: path.dirname(abs), explicit: true }]);
    }
  }
  const files = [...found.values()].sort((a, b) => compare(a.path, b.path));
  return { files, problems, ignored };
}

/** Plain code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

async function walkTree(root: string, start: string, ignores: IgnoreFiles, out: DiscoveredFile[]): Promise<void> {
  const chain = await ignores.chainFor(start, await repositoryCeiling(start));
  await walkDir(root, start, chain, ignores, out);
}

async function walkDir(
  root: string,
  dir: string,
  inherited: readonly Matcher[],
  ignores: IgnoreFiles,
  out: DiscoveredFile[],
): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch {
    // An unreadable directory below an argument is skipped (like git does).
    return;
  }
  const chain = [...inherited, ...(await ignores.own(dir, entries))];
  const subdirs: string[] = [];
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED_DIRECTORIES.has(entry.name)) continue;
      if (matchChain(chain, full, true, ["git", "dfopt"])) continue;
      subdirs.push(full);
    } else if (entry.isFile() || entry.isSymbolicLink()) {
      if (!isDockerfileName(entry.name)) continue;
      if (matchChain(chain, full, false, ["git", "dfopt"])) continue;
      if (entry.isSymbolicLink()) {
        // Keep links to regular files; a link to a directory is not entered.
        const target = await fs.stat(full).catch(() => null);
        if (!target?.isFile()) continue;
      }
      out.push({ path: full, root, explicit: false });
    }
  }
  await Promise.all(subdirs.map((sub) => walkDir(root, sub, chain, ignores, out)));
}

async function globArgument(
  pattern: string,
  cwd: string,
  ignores: IgnoreFiles,
  add: (files: readonly DiscoveredFile[]) => Promise<void>,
): Promise<void> {
  const { glob } = await import("tinyglobby");
  const posix = pattern.replace(/\\/g, "/");
  const lastSegment = posix.split("/").pop() ?? "";
  const literalName = !GLOB_CHARS.test(lastSegment);
  const matches = await glob([posix], {
    cwd,
    absolute: true,
    dot: true,
    onlyFiles: false,
    followSymbolicLinks: false,
    ignore: [...SKIPPED_DIRECTORIES].map((d) => `**/${d}/**`),
  });
  // The glob's fixed prefix stands for "the directory given".
  const prefix = posix.split("/").filter((s, i, all) => i < all.length - 1 && !GLOB_CHARS.test(s));
  const root = path.resolve(cwd, prefix.join("/") || ".");
  for (const match of matches.sort(compare)) {
    const abs = path.resolve(match);
    const stat = await fs.stat(abs).catch(() => null);
    if (!stat) continue;
    if (stat.isDirectory()) {
      const files: DiscoveredFile[] = [];
      await walkTree(root, abs, ignores, files);
      await add(files);
      continue;
    }
    if (!stat.isFile()) continue;
    if (!literalName && !isDockerfileName(path.basename(abs))) continue;
    const ceiling = await repositoryCeiling(path.dirname(abs));
    if (await ignores.ignoredBy(abs, false, ["git", "dfopt"], ceiling ?? root)) continue;
    await add([{ path: abs, root, explicit: false }]);
  }
}

/** The nearest enclosing directory with a `.git` (dir or worktree file), or null. */
export async function findRepositoryRoot(
  start: string,
  cache?: Map<string, Promise<string | null>>,
): Promise<string | null> {
  const lookup = async (dir: string): Promise<string | null> => {
    const hit = cache?.get(dir);
    if (hit) return hit;
    const result = (async () => {
      if (await exists(path.join(dir, ".git"))) return dir;
      const parent = path.dirname(dir);
      return parent === dir ? null : lookup(parent);
    })();
    cache?.set(dir, result);
    return result;
  };
  return lookup(path.resolve(start));
}

const repoCache = new Map<string, Promise<string | null>>();

/** Ignore files apply from the repository root down; outside a repository, from the walk's start. */
async function repositoryCeiling(start: string): Promise<string | null> {
  return findRepositoryRoot(start, repoCache);
}

function ceilingFor(file: string, cwd: string): string {
  const dir = path.dirname(file);
  const rel = path.relative(cwd, dir);
  return rel.startsWith("..") || path.isAbsolute(rel) ? dir : cwd;
}

function matchChain(
  chain: readonly Matcher[],
  full: string,
  isDir: boolean,
  kinds: readonly IgnoreKind[],
): Matcher | null {
  let by: Matcher | null = null;
  for (const m of chain) {
    if (!kinds.includes(m.kind)) continue;
    let rel = path.relative(m.base, full);
    if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) continue;
    rel = rel.split(path.sep).join("/");
    const r = m.ig.test(isDir ? `${rel}/` : rel);
    if (r.ignored) by = m;
    else if (r.unignored) by = null;
  }
  return by;
}

/** Loads and caches the ignore files of each directory. */
class IgnoreFiles {
  private readonly cache = new Map<string, Promise<Matcher[]>>();

  constructor(private readonly enabled: boolean) {}

  /** The directory's own matchers; `entries` saves a readdir when the caller has one. */
  own(dir: string, entries?: readonly Dirent[]): Promise<Matcher[]> {
    if (!this.enabled) return Promise.resolve([]);
    let hit = this.cache.get(dir);
    if (!hit) {
      hit = this.load(dir, entries);
      this.cache.set(dir, hit);
    }
    return hit;
  }

  private async load(dir: string, entries?: readonly Dirent[]): Promise<Matcher[]> {
    const names = entries ? new Set(entries.map((e) => e.name)) : null;
    const out: Matcher[] = [];
    const sources: [string, IgnoreKind][] = [
      [".gitignore", "git"],
      [".dfoptignore", "dfopt"],
    ];
    if (names === null || names.has(".git")) sources.unshift([".git/info/exclude", "git"]);
    for (const [name, kind] of sources) {
      if (names && !names.has(name.split("/")[0]!)) continue;
      const file = path.join(dir, name);
      const text = await fs.readFile(file, "utf8").catch(() => null);
      if (text === null) continue;
      out.push({ base: dir, file, kind, ig: ignore().add(text) });
    }
    return out;
  }

  /** Matchers of `ceiling` (or the repository root) and every directory below it down to `dir`'s parent. */
  async chainFor(dir: string, ceiling: string | null): Promise<Matcher[]> {
    if (!this.enabled || ceiling === null) return [];
    const rel = path.relative(ceiling, dir);
    if (rel.startsWith("..") || path.isAbsolute(rel)) return [];
    const dirs: string[] = [];
    let current = dir;
    while (current !== ceiling) {
      current = path.dirname(current);
      dirs.unshift(current);
    }
    const chain: Matcher[] = [];
    for (const d of dirs) chain.push(...(await this.own(d)));
    return chain;
  }

  /** The ignore file that excludes `file`, or null. */
  async ignoredBy(file: string, isDir: boolean, kinds: readonly IgnoreKind[], ceiling: string): Promise<string | null> {
    if (!this.enabled) return null;
    const repo = await repositoryCeiling(path.dirname(file));
    const chain = await this.chainFor(path.join(path.dirname(file), "x"), repo ?? ceiling);
    return matchChain(chain, file, isDir, kinds)?.file ?? null;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

function describeStatError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT" || code === "ENOTDIR") return "no such file or directory; check the path";
  if (code === "EACCES" || code === "EPERM") return "permission denied; check the permissions";
  if (code === "ELOOP") return "too many levels of symbolic links";
  return (error as Error).message;
}
