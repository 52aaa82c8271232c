/**
 * Where a COPY/ADD puts a file inside the image, for passes that add a RUN
 * working on the copied file (entrypoint-crlf's `sed -i`).
 *
 * Docker's rule (Dockerfile reference, COPY): with several sources, or a
 * destination ending in `/`, the destination is a directory and each file
 * lands at `<dest>/<basename>`. With one source and no trailing slash, the
 * file lands at `<dest>/<basename>` when `<dest>` is an existing directory
 * in the image, and AT `<dest>` otherwise. Whether `<dest>` exists is a fact
 * about the base image the Dockerfile doesn't show, so it is only answered
 * for directories every Linux distribution image has and for directories the
 * stage itself made (WORKDIR, `mkdir`, an earlier COPY into `dir/`).
 */
import path from "node:path";
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import { allSimpleCommands } from "../../src/shell-facts.js";
import { stageChain } from "./hygiene.js";

/**
 * Directories of the Filesystem Hierarchy Standard that Debian, Ubuntu,
 * Alpine, Fedora/CentOS/UBI and busybox base images all ship. `/app`, `/opt`
 * and `/srv` are not here: most base images lack them, and `COPY x.sh /app`
 * into a missing `/app` writes the script AT `/app`.
 */
const IMAGE_DIRECTORIES: ReadonlySet<string> = new Set([
  "/",
  "/bin",
  "/sbin",
  "/etc",
  "/root",
  "/tmp",
  "/var",
  "/home",
  "/usr",
  "/usr/bin",
  "/usr/sbin",
  "/usr/local",
  "/usr/local/bin",
  "/usr/local/sbin",
]);

/**
 * Directories of executables and of hook scripts (phusion's my_init.d,
 * s6-overlay's cont-init.d, the official images' docker-entrypoint.d): they
 * hold files, so `<dir>/<name>` is a file, not a folder.
 */
const EXECUTABLE_DIRECTORIES: ReadonlySet<string> = new Set([
  "/bin",
  "/sbin",
  "/usr/bin",
  "/usr/sbin",
  "/usr/local/bin",
  "/usr/local/sbin",
  "/etc/my_init.d",
  "/etc/cont-init.d",
  "/etc/cont-finish.d",
  "/docker-entrypoint.d",
  "/docker-entrypoint-initdb.d",
]);

/** A runit/s6 service script: `/etc/service/<name>/run` (and `finish`, `check`) is a file by convention. */
const SERVICE_SCRIPT = /^\/etc\/(service|sv|services\.d|runit\/runsvdir\/[^/]+)\/[^/]+\/(run|finish|check)$/;

export type CopiedPath =
  { readonly kind: "path"; readonly path: string } | { readonly kind: "unknown"; readonly why: string };

function withAncestors(dir: string, into: Set<string>): void {
  for (let d = dir; ; d = path.posix.dirname(d)) {
    into.add(d);
    if (d === "/") break;
  }
}

/** `p` made absolute against `workdir` (null when either can't be known statically). */
function absoluteIn(p: string, workdir: string | null): string | null {
  if (p.includes("$")) return null;
  if (p.startsWith("/")) return path.posix.normalize(p).replace(/(.)\/+$/, "$1");
  if (workdir === null || workdir.includes("$") || !workdir.startsWith("/")) return null;
  return path.posix.normalize(path.posix.join(workdir, p)).replace(/(.)\/+$/, "$1");
}

interface StageDirectories {
  /** Absolute directories known to exist before `node` runs. */
  readonly dirs: ReadonlySet<string>;
  /** WORKDIR in effect (absolute), null when the base image's applies or it expands a variable. */
  readonly workdir: string | null;
}

/** Directories the stage (and the stages it builds on) created before `node`. */
function directoriesBefore(file: ParsedDockerfile, node: InstructionNode): StageDirectories {
  const dirs = new Set<string>();
  let workdir: string | null = null;
  const stage = file.stages[node.stage];
  if (!stage) return { dirs, workdir: null };
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) {
      if (s === stage && i.index >= node.index) break;
      if (i.keyword === "WORKDIR") {
        // A relative WORKDIR under the base image's (unknown) one can't be resolved.
        workdir = absoluteIn(i.args.map((a) => a.value).join(" "), workdir);
        if (workdir !== null) withAncestors(workdir, dirs);
      } else if ((i.keyword === "COPY" || i.keyword === "ADD") && i.form !== "heredoc") {
        const args = i.execArgs ?? i.args.map((a) => a.value);
        if (args.length < 2) continue;
        const dest = args[args.length - 1]!;
        const abs = absoluteIn(dest, workdir);
        if (abs === null) continue;
        if (args.length > 2 || dest.endsWith("/")) withAncestors(abs, dirs);
        else withAncestors(path.posix.dirname(abs), dirs);
      } else if (i.keyword === "RUN" && i.shell?.parse.ok) {
        for (const c of allSimpleCommands(i.shell.parse.script.statements)) {
          if (c.name !== "mkdir" && c.name !== "/bin/mkdir" && c.name !== "/usr/bin/mkdir") continue;
          for (const w of c.words.slice(1)) {
            // Only absolute operands: a `cd` earlier in the RUN would move relative ones.
            if (w.value === null || !w.value.startsWith("/")) continue;
            const abs = absoluteIn(w.value, null);
            if (abs !== null) withAncestors(abs, dirs);
          }
        }
      }
    }
  }
  return { dirs, workdir };
}

function basename(p: string): string {
  return p.replace(/^\.\//, "").replace(/\/+$/, "").split("/").pop() ?? "";
}

function extension(name: string): string | null {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : null;
}

/**
 * The path (as RUN in the same stage sees it: relative paths stay relative
 * to WORKDIR) where `COPY <sources…> <dest>` puts `source`, or why that
 * can't be told.
 */
export function copiedPath(
  file: ParsedDockerfile,
  node: InstructionNode,
  source: string,
  dest: string,
  sourceCount: number,
): CopiedPath {
  const base = basename(source);
  const inside = (): CopiedPath => ({
    kind: "path",
    path: `${dest.replace(/\/+$/, "")}/${base}`.replace(/^\/\//, "/"),
  });
  if (sourceCount > 1 || dest.endsWith("/") || /(^|\/)\.\.?$/.test(dest)) return inside();
  const { dirs, workdir } = directoriesBefore(file, node);
  const abs = absoluteIn(dest, workdir);
  if (abs !== null && (IMAGE_DIRECTORIES.has(abs) || dirs.has(abs))) return inside();
  const name = basename(dest);
  const ext = extension(name);
  // A name the script keeps (`/entrypoint.sh`), the script's own extension, or a
  // command name in a bin directory: the destination is the file itself.
  if (
    name === base ||
    (ext !== null && ext === extension(base)) ||
    (abs !== null && (EXECUTABLE_DIRECTORIES.has(path.posix.dirname(abs)) || SERVICE_SCRIPT.test(abs)))
  ) {
    return { kind: "path", path: dest };
  }
  return {
    kind: "unknown",
    why: `can't tell whether ${dest} is a directory in the image (then the file lands at ${dest.replace(/\/+$/, "")}/${base})`,
  };
}
