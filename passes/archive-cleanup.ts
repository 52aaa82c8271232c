import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import type { ShellWord, SimpleCommand, Statement } from "../src/shell.js";
import type { Change, Pass, PassResult, Skip } from "../src/types.js";
import {
  allMountTargets,
  appendAfter,
  canAppendAfter,
  chainedNeighbours,
  commandsInOrder,
  descendantStages,
  envBefore,
  isUnder,
  laterInstructions,
  shippedStages,
} from "./lib/hygiene.js";
import { analysableRuns, fileSpan, type RunInfo } from "./lib/runs.js";

const id = "archive-cleanup";

/** A path resolved against the shell's working directory; `?` marks an unknown directory. */
type Cwd = string;

function resolve(cwd: Cwd, path: string): string {
  if (path.startsWith("/")) return normalize(path);
  return normalize(`${cwd}/${path}`);
}

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === ".." && out.length > 0 && out[out.length - 1] !== "..") out.pop();
    else out.push(part);
  }
  return `${path.startsWith("/") ? "/" : ""}${out.join("/")}`;
}

function basenameOfUrl(url: string): string | null {
  if (url.includes("?") || url.includes("#")) return null;
  const name = url.replace(/\/+$/, "").split("/").pop() ?? "";
  return name && !name.includes(":") ? name : null;
}

/** Top-level simple commands with the working directory each one runs in. */
function topLevelCommands(statements: readonly Statement[], start: Cwd): { command: SimpleCommand; cwd: Cwd }[] {
  const out: { command: SimpleCommand; cwd: Cwd }[] = [];
  let cwd = start;
  let unknown = 0;
  for (const s of statements) {
    for (const p of s.andOr.pipelines) {
      for (const c of p.commands) {
        if (c.kind !== "simple") {
          // A compound may `cd` anywhere: from here on the directory is unknown.
          if (c.kind !== "subshell") cwd = `?${++unknown}`;
          continue;
        }
        out.push({ command: c, cwd });
        if (p.commands.length === 1 && !s.background && (c.name === "cd" || c.name === "pushd" || c.name === "popd")) {
          const target = c.words[1]?.value;
          if (c.name === "cd" && target && !target.startsWith("-") && !target.startsWith("~")) {
            cwd = target.startsWith("/")
              ? normalize(target)
              : cwd.startsWith("?")
                ? `?${++unknown}`
                : resolve(cwd, target);
          } else cwd = `?${++unknown}`;
        }
      }
    }
  }
  return out;
}

/** The file a `wget`/`curl` command writes, resolved; null when it writes none or it can't be known. */
export function downloadedFile(command: SimpleCommand, cwd: Cwd): string | null {
  const name = command.name?.slice(command.name.lastIndexOf("/") + 1);
  const words = command.words.map((w) => w.value);
  if (words.some((w) => w === null)) return null;
  const args = words.slice(1) as string[];
  const urls = args.filter((a) => /^[a-z]+:\/\//i.test(a));
  if (urls.length !== 1) return null;
  const redirect = command.redirects.find((r) => r.op === ">" || r.op === ">>");
  if (name === "wget") {
    let output: string | null = null;
    let dir: string | null = null;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "-O" || a === "--output-document") output = args[++i] ?? null;
      else if (a.startsWith("--output-document=")) output = a.slice("--output-document=".length);
      else if (/^-[a-zA-Z]*O.+/.test(a) && !a.startsWith("--")) output = a.slice(a.indexOf("O") + 1);
      else if (a === "-P" || a === "--directory-prefix") dir = args[++i] ?? null;
      else if (a.startsWith("--directory-prefix=")) dir = a.slice("--directory-prefix=".length);
      else if (/^-[a-zA-Z]*O$/.test(a)) output = args[++i] ?? null;
    }
    if (output === "-" || output === null) {
      if (output === "-") return redirect?.target ? resolve(cwd, redirect.target) : null;
      const base = basenameOfUrl(urls[0]!);
      return base ? resolve(dir ? resolve(cwd, dir) : cwd, base) : null;
    }
    return resolve(cwd, output);
  }
  if (name === "curl") {
    let output: string | null = null;
    let remote = false;
    let dir: string | null = null;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "-o" || a === "--output") output = args[++i] ?? null;
      else if (a === "-O" || a === "--remote-name") remote = true;
      else if (a === "--output-dir") dir = args[++i] ?? null;
      else if (/^-[a-zA-Z]+$/.test(a)) {
        if (a.includes("O")) remote = true;
        if (a.endsWith("o")) output = args[++i] ?? null;
      }
    }
    if (output) return output === "-" ? null : resolve(dir ? resolve(cwd, dir) : cwd, output);
    if (remote) {
      const base = basenameOfUrl(urls[0]!);
      return base ? resolve(dir ? resolve(cwd, dir) : cwd, base) : null;
    }
    return redirect?.target ? resolve(cwd, redirect.target) : null;
  }
  return null;
}

/** tar options whose value is the next word (`-C /opt`, `--directory /opt`). */
const TAR_LONG_WITH_VALUE = new Set([
  "--directory",
  "--exclude",
  "--exclude-from",
  "--transform",
  "--xform",
  "--strip-components",
  "--use-compress-program",
  "--owner",
  "--group",
  "--mode",
  "--blocking-factor",
  "--format",
  "--starting-file",
  "--newer",
  "--label",
  "--tape-length",
  "--to-command",
  "--checkpoint-action",
]);
/** Short tar options (alone or last in a cluster) that take the next word. */
const TAR_SHORT_WITH_VALUE = "fCTXbHIKLNVg";

/**
 * The archive word a `tar x…`/`unzip` command reads when it extracts the
 * whole archive, or null. Listing or testing (`tar t`, `unzip -l/-t/-v/-Z/-p`)
 * is not extraction, and an extraction of named members (`tar xf a.tgz dir/`,
 * `tar -T list`, `unzip a.zip 'lib/*'`) leaves the rest only in the archive.
 */
export function extractedArchive(command: SimpleCommand): ShellWord | null {
  const name = command.name?.slice(command.name.lastIndexOf("/") + 1);
  const words = command.words;
  if (name === "tar") {
    let extract = false;
    let file: ShellWord | null = null;
    for (let i = 1; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null) return null;
      if (v === "--extract" || v === "--get") extract = true;
      else if (v === "-f" || v === "--file") file = words[++i] ?? null;
      else if (v.startsWith("--file="))
        return null; // the word holds more than the path
      else if (v === "-T" || v === "--files-from" || v.startsWith("--files-from=")) return null;
      else if (v.startsWith("--")) {
        if (TAR_LONG_WITH_VALUE.has(v)) i++;
      } else if (/^-[A-Za-z]+$/.test(v) || (i === 1 && /^[A-Za-z]+$/.test(v))) {
        const letters = v.replace(/^-/, "");
        if (letters.includes("x")) extract = true;
        const valued = [...letters].filter((l) => TAR_SHORT_WITH_VALUE.includes(l));
        if (valued.length > 1 || (valued.length === 1 && !letters.endsWith(valued[0]!))) return null;
        if (valued[0] === "T") return null;
        if (valued[0] === "f") file = words[++i] ?? null;
        else if (valued.length === 1) i++;
      } else if (v.startsWith("-")) continue;
      else return null; // a member name: only part of the archive is extracted
    }
    return extract && file && file.value !== "-" ? file : null;
  }
  if (name === "unzip") {
    let archive: ShellWord | null = null;
    for (let i = 1; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null) return null;
      if (v === "-x") return archive; // the rest are members left out on purpose
      if (v === "-d" || v === "-P") {
        i++;
        continue;
      }
      if (v.startsWith("-")) {
        // -l/-t/-v/-z/-Z list or test, -p/-c write to stdout: nothing is extracted.
        if (/[ltvzZpc]/.test(v.slice(1))) return null;
        continue;
      }
      if (archive) return null; // a member name: only part of the archive is extracted
      archive = words[i]!;
    }
    return archive;
  }
  return null;
}

/** Archives that are the artifact itself (deployed or loaded at run time), not a container of files. */
const RUNTIME_ARTIFACT = /\.(war|jar|ear|aar|whl|egg)$/i;

function globMatches(pattern: string, path: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, "[^/]*")
      .replace(/\?/g, "[^/]")}$`,
  );
  return re.test(path);
}

export const archiveCleanup: Pass = {
  meta: {
    id,
    title: "Remove downloaded archives after extraction",
    summary: "rm the archive a RUN downloaded and extracted, in the same RUN",
    defaultEnabled: true,
    doc: `## What it does
In a RUN that downloads an archive (\`wget URL\`, \`wget -O f URL\`,
\`curl -o f URL\`, \`curl -O URL\`, \`curl URL > f\`) and then extracts it
(\`tar x…f f\`, \`unzip f\`), appends \`&& rm -f f\` right after the extraction.

## Why
The archive is dead weight once extracted, and a later RUN that deletes it
saves nothing: the bytes stay in the earlier layer. Guide 004: "remove them
in the same layer". PARFUM repairs the same smell.

## Example
\`\`\`dockerfile
RUN wget https://example.org/tool-1.2.tar.gz && tar xzf tool-1.2.tar.gz -C /opt
\`\`\`
becomes
\`\`\`dockerfile
RUN wget https://example.org/tool-1.2.tar.gz && tar xzf tool-1.2.tar.gz -C /opt && rm -f tool-1.2.tar.gz
\`\`\`

## Safety
Safe when proven from the RUN: the archive path is static, the extraction
reads the very file the download wrote (working directories followed through
\`cd\`), both run in the RUN's own shell in a plain \`&&\` chain, and neither
a later command of the RUN nor a later instruction of the stage (or of a
stage built on it) mentions the file. Only a full extraction counts:
listing or testing (\`tar t\`, \`unzip -l/-t/-v/-z/-Z\`, \`unzip -p/-c\`) and
extracting named members (\`tar xf a.tgz dir/\`, \`tar -T list\`,
\`unzip a.zip 'lib/*'\`) leave the rest only in the archive. Skipped when
the RUN already removes it (or its directory), when it lies in a mounted
directory, when any stage copies from this one or a stage built on it
(\`COPY --from\`, \`RUN --mount=…,from=\`: a glob or directory may include
it), when an ENV/ARG value names it and its variable is used later, for
runtime artifacts (\`.war\`, \`.jar\`, \`.ear\`, \`.aar\`, \`.whl\`, \`.egg\`:
deployed or loaded as they are), and in builder stages whose files are not
shipped.

## References
- guide 004 (clean up in the same layer)
- Docker best practices, minimize layers' content: https://docs.docker.com/build/building/best-practices/
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const shipped = shippedStages(file);
    for (const run of analysableRuns(file).runs) {
      // A RUN chain-runs will join is cleaned once joined, so the layout is the same in any order.
      const chained = chainedNeighbours(file, run.node, options);
      if (!shipped.has(run.node.stage) || chained.previous || chained.next) continue;
      cleanRun(file, run, changes, skips);
    }
    return { changes, skips };
  },
};

function cleanRun(file: ParsedDockerfile, run: RunInfo, changes: Change[], skips: Skip[]): void {
  const commands = topLevelCommands(run.script.statements, run.context.workdir ?? "?0");
  const downloads: { path: string; at: number }[] = [];
  const done = new Set<string>();
  const all = commandsInOrder(run.script);
  for (const { command, cwd } of commands) {
    const downloaded = downloadedFile(command, cwd);
    if (downloaded) downloads.push({ path: downloaded, at: command.end });
    const word = extractedArchive(command);
    if (!word || word.value === null || /[*?[]/.test(word.value)) continue;
    const path = resolve(cwd, word.value);
    if (done.has(path) || !downloads.some((d) => d.path === path && d.at <= command.start)) continue;
    done.add(path);
    const at = fileSpan(run.node, command).start;
    const base = path.split("/").pop()!;
    // Anything after the extraction that names the file (a second tar, an rm, a checksum…) keeps it.
    if (run.script.source.slice(command.end).includes(base)) continue;
    const after = all.filter((c) => c.start > command.end);
    if (after.some((c) => c.words.some((w) => w.value !== null && removes(c, w.value, cwd, path)))) continue;
    if (allMountTargets(run.node).some((t) => isUnder(path, t))) continue;
    if (RUNTIME_ARTIFACT.test(base)) {
      skips.push({ pass: id, at, reason: `${base} kept: a .${base.split(".").pop()} is used as it is at run time` });
      continue;
    }
    const later = laterInstructions(file, run.node).find((i) => file.text.slice(i.start, i.end).includes(base));
    if (later) {
      skips.push({ pass: id, at, reason: `${base} kept: line ${later.line} mentions it` });
      continue;
    }
    const copied = stageReference(file, run.node);
    if (copied) {
      skips.push({ pass: id, at, reason: `${base} kept: line ${copied.line} copies files from this stage` });
      continue;
    }
    const variable = variableNaming(file, run, command.end, base);
    if (variable) {
      skips.push({ pass: id, at, reason: `${base} kept: \$${variable} holds its name and is used later` });
      continue;
    }
    const slot = canAppendAfter(run.script, command);
    if (!slot || slot.pipeline.commands.length !== 1) {
      skips.push({ pass: id, at, reason: `${base} kept: the extraction is not in a plain && chain` });
      continue;
    }
    const prefix = command.words[0]!.value === "sudo" ? "sudo " : "";
    changes.push({
      pass: id,
      edits: [appendAfter(file, run.node, slot, `${prefix}rm -f ${word.source}`)],
      reason: `${base} is useless once extracted; removing it in the same RUN keeps it out of the layer`,
      safety: "safe",
    });
  }
}

/** True when an `rm` word removes `path` (itself, a glob matching it, or a directory holding it). */
function removes(command: SimpleCommand, word: string, cwd: Cwd, path: string): boolean {
  if (command.name !== "rm") return false;
  if (word.startsWith("-")) return false;
  const target = resolve(cwd, word.replace(/\/\*$/, "").replace(/\/$/, ""));
  if (target === path || isUnder(path, target)) return true;
  return /[*?]/.test(word) && globMatches(resolve(cwd, word), path);
}

/**
 * An instruction of any stage that reads this stage's files (`COPY
 * --from=<name or index>`, `RUN --mount=…,from=<name or index>`), this stage
 * or one built on it: those see the archive whatever they copy (a glob, a
 * directory), so removing it may break them.
 */
function stageReference(file: ParsedDockerfile, node: InstructionNode): InstructionNode | null {
  const stage = file.stages[node.stage];
  if (!stage) return null;
  const refs = new Set<string>();
  for (const s of [stage, ...descendantStages(file, stage)]) {
    refs.add(String(s.index));
    if (s.name !== null) refs.add(s.name.toLowerCase());
  }
  for (const i of file.instructions) {
    for (const flag of i.flags) {
      const from =
        flag.name === "from" ? flag.value : flag.name === "mount" ? (flag.options.get("from") ?? null) : null;
      if (from !== null && refs.has(from.toLowerCase())) return i;
    }
  }
  return null;
}

/**
 * An ENV/ARG (set before the RUN, in its stage chain) whose value names the
 * archive and whose variable the rest of the RUN or a later instruction
 * uses (`ENV PKG=/tmp/tool.tgz` … `RUN tar tzf $PKG`); null when none does.
 */
function variableNaming(file: ParsedDockerfile, run: RunInfo, after: number, base: string): string | null {
  const texts = [
    run.script.source.slice(after),
    ...laterInstructions(file, run.node).map((i) => file.text.slice(i.start, i.end)),
  ];
  for (const [name, value] of envBefore(file, run.node)) {
    if (!value.includes(base)) continue;
    const use = new RegExp(`\\$\\{?${name}\\b`);
    if (texts.some((t) => use.test(t))) return name;
  }
  return null;
}
