/**
 * COPY/ADD facts the builder-runner pass needs: where an instruction writes
 * in the image, whether it could write a given path, which part of the build
 * context it would take that path from, and whether a later `COPY . <dir>`
 * writes the same bytes again. Paths are POSIX, absolute and normalised.
 */
import path from "node:path";
import type { InstructionNode } from "../../src/dockerfile.js";

const posix = path.posix;

export interface CopyFacts {
  readonly node: InstructionNode;
  readonly keyword: "COPY" | "ADD";
  /** `--from` value, or null. */
  readonly from: string | null;
  /** `--chown`/`--chmod`/`--link`… as written, sorted, to compare two COPYs. */
  readonly flagKey: string;
  /** Sources as written; null for the JSON form (not narrowed). */
  readonly sources: readonly string[] | null;
  /** Destination as written, or null. */
  readonly destText: string | null;
  /** Absolute destination; null when it expands a variable dfopt can't resolve. */
  readonly dest: string | null;
  /** The destination is a directory the sources are copied into. */
  readonly destIsDir: boolean;
  /** The destination is relative to WORKDIR (after expanding variables). */
  readonly destRelative: boolean;
  /** WORKDIR in effect at the instruction (`/` when none is set); null when it expands an unknown variable. */
  readonly workdir: string | null;
}

const GLOB = /[*?[\]]/;

export function copyFacts(
  text: string,
  node: InstructionNode,
  workdir: string | null,
  env: ReadonlyMap<string, string>,
): CopyFacts {
  const keyword = node.keyword === "ADD" ? "ADD" : "COPY";
  const from = node.flags.find((f) => f.name === "from")?.value ?? null;
  const flagKey = node.flags
    .filter((f) => f.name !== "from")
    .map((f) => `${f.name}=${f.value ?? ""}`)
    .sort()
    .join(" ");
  let words: string[];
  let sources: string[] | null;
  if (node.form === "exec") {
    words = jsonArray(text.slice(node.bodyStart, node.end)) ?? [];
    sources = null;
  } else {
    words = node.args.map((a) => a.value);
    sources = words.slice(0, -1);
  }
  const destText = words.length >= 2 ? words[words.length - 1]! : null;
  const expanded = destText === null ? null : expand(destText, env);
  const dest =
    expanded === null
      ? null
      : expanded.startsWith("/")
        ? resolveIn("/", expanded)
        : workdir === null
          ? null
          : resolveIn(workdir, expanded);
  const destIsDir =
    destText !== null && (destText.endsWith("/") || destText === "." || destText === ".." || words.length > 2);
  const destRelative = expanded !== null && !expanded.startsWith("/");
  return { node, keyword, from, flagKey, sources, destText, dest, destIsDir, destRelative, workdir };
}

/** The strings of a JSON-form instruction body (`["a b", "c"]`), or null. */
export function jsonArray(body: string): string[] | null {
  try {
    const value: unknown = JSON.parse(body.replace(/\\\r?\n/g, ""));
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? (value as string[]) : null;
  } catch {
    return null;
  }
}

/** `$VAR`/`${VAR}` from ENV/ARG values; null when a value is unknown. */
export function expand(text: string, env: ReadonlyMap<string, string>): string | null {
  let unknown = false;
  const out = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, a, b) => {
    const value = env.get((a ?? b) as string);
    if (value === undefined || value.includes("$")) unknown = true;
    return value ?? "";
  });
  return unknown || out.includes("$") ? null : out;
}

export function resolveIn(workdir: string, p: string): string {
  return posix.resolve(workdir, p);
}

/** True when `inner` is `outer` or below it. */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || outer === "/" || inner.startsWith(`${outer}/`);
}

/** Could this instruction write `target` (a file or a directory's contents)? */
export function canWrite(copy: CopyFacts, target: string): boolean {
  if (copy.dest === null) return true;
  return isWithin(target, copy.dest) || isWithin(copy.dest, target);
}

/**
 * The build-context path `target` comes from when this instruction copies a
 * whole directory (`COPY . /app`, `ADD ./ .`, `COPY src/ /srv/`), or null
 * when the instruction can't be narrowed to that one path.
 */
export function narrowedSource(copy: CopyFacts, target: string): string | null {
  if (copy.from !== null || copy.sources === null || copy.sources.length !== 1 || copy.dest === null) return null;
  const source = copy.sources[0]!;
  if (GLOB.test(source) || source.includes("$") || /^[a-z]+:\/\//i.test(source)) return null;
  if (!(source === "." || source.endsWith("/"))) return null;
  if (target === copy.dest || !isWithin(target, copy.dest)) return null;
  const inside = posix.normalize(posix.join(source, posix.relative(copy.dest, target)));
  if (inside === "." || inside.startsWith("../") || /[\s"'\\$]/.test(inside)) return null;
  return inside.replace(/^\.\//, "");
}

/**
 * `COPY <source> <dest>` that writes `target` exactly as `copy` did, with the
 * destination written the way the original was (relative to WORKDIR or
 * absolute), `.` for a file that lands directly in WORKDIR under its own name.
 * A directory gets its full destination path: `COPY vendor vendor`.
 */
export function narrowedCopyText(copy: CopyFacts, source: string, target: string, isFile: boolean): string {
  let dest = target;
  if (copy.destRelative && copy.workdir !== null && isWithin(target, copy.workdir)) {
    const rel = posix.relative(copy.workdir, target);
    if (rel !== "" && !rel.startsWith("..")) {
      // `COPY dir .` would spill the directory's contents into WORKDIR.
      dest = isFile && rel === posix.basename(source) && !rel.includes("/") ? "." : rel;
    }
  }
  return `COPY ${source} ${dest}`;
}

/**
 * True when `later` (a whole-context `COPY . <dir>`) writes every file
 * `early` wrote, with the same bytes and the same ownership flags, so
 * `early` can be dropped when nothing in between reads those files.
 */
export function coveredBy(early: CopyFacts, later: CopyFacts): boolean {
  if (early.keyword !== "COPY" || early.from !== null || later.from !== null) return false;
  if (early.sources === null || early.sources.length === 0 || early.dest === null) return false;
  if (later.sources === null || later.sources.length !== 1 || later.dest === null) return false;
  if (!(later.sources[0] === "." || later.sources[0] === "./")) return false;
  // The later COPY replaces each file with its own owner and mode; only a
  // directory the early COPY creates would keep the early one's.
  const intoWorkdir = early.destIsDir && early.dest === early.workdir;
  if (early.flagKey !== later.flagKey && !intoWorkdir) return false;
  for (const source of early.sources) {
    if (GLOB.test(source) || source.includes("$") || source.startsWith("/") || source.includes("..")) return false;
    const inContext = posix.normalize(source).replace(/\/$/, "");
    const laterWrites = posix.join(later.dest, inContext);
    if (source.endsWith("/")) {
      // A directory source: its contents land in the destination directory.
      if (!early.destIsDir || early.dest !== laterWrites || early.flagKey !== later.flagKey) return false;
    } else if (/\.[A-Za-z0-9]+$/.test(posix.basename(source))) {
      // A file (it has an extension): it lands at dest/basename, or at dest
      // itself when a single file is copied to a file name.
      const earlyWrites = early.destIsDir ? posix.join(early.dest, posix.basename(source)) : null;
      if (earlyWrites === null || earlyWrites !== laterWrites) return false;
    } else {
      return false;
    }
  }
  return true;
}
