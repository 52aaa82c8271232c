import type { ParsedDockerfile } from "../src/dockerfile.js";
import type { ShellScript, SimpleCommand } from "../src/shell.js";
import type { Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { APK_BUILD_TOOLS, runtimePackageFor } from "./lib/apk-build-deps.js";
import { cacheMode } from "./lib/cache-mode.js";
import {
  appendAfter,
  baseImageOf,
  cacheMountTargets,
  chainedNeighbours,
  canAppendAfter,
  commandsInOrder,
  deleteInstruction,
  laterInstructions,
  opaqueSources,
  overlaps,
  parseImage,
  removeWordOrLine,
  runsOpaqueScript,
  shippedStages,
  slotOf,
  subcommandCall,
  subcommandCalls,
  type SubcommandCall,
} from "./lib/hygiene.js";
import {
  isPython,
  packageManagerCall,
  type PackageManager,
  OPTIONS_WITH_VALUE as SHARED_OPTIONS_WITH_VALUE,
} from "./lib/package-managers.js";
import { analysableRuns, fileSpan, insertAfterWord, replaceSpan, type RunInfo } from "./lib/runs.js";

const id = "apk-hygiene";

const APK_CACHE_DIRS = ["/var/cache/apk", "/etc/apk/cache"];
const BUILD_GROUP = ".build-deps";

/** apk options whose value is the next word. */
const OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(SHARED_OPTIONS_WITH_VALUE.apk);

/** Subcommands that read the package index (`apk update` writes it). */
const INDEX_READERS = new Set(["add", "upgrade", "fix", "fetch", "search", "list", "policy", "version", "dot", "info"]);

type ApkCall = SubcommandCall;
const APK: ReadonlySet<PackageManager> = new Set(["apk"]);

function apkCall(command: SimpleCommand): ApkCall | null {
  return subcommandCall(command, APK);
}

function apkCalls(script: ShellScript): ApkCall[] {
  return subcommandCalls(script, APK);
}

function optionValues(a: ApkCall): (string | null)[] {
  return a.command.words.slice(a.call.argsFrom).map((w) => w.value);
}

/** `--no-cache`, or `--update`/`-U` that fetches the index itself. */
function hasNoCache(a: ApkCall): boolean {
  return optionValues(a).some((v) => v === "--no-cache");
}

function fetchesIndex(a: ApkCall): boolean {
  return optionValues(a).some((v) => v === "--no-cache" || v === "--update" || v === "-U" || v === "--update-cache");
}

/** Package arguments of `apk add` (with word indexes). */
function packagesOf(a: ApkCall): { value: string | null; index: number }[] {
  const out: { value: string | null; index: number }[] = [];
  for (let i = a.sub + 1; i < a.command.words.length; i++) {
    const v = a.command.words[i]!.value;
    if (v !== null && v.startsWith("-")) {
      if (OPTIONS_WITH_VALUE.has(v)) i++;
      continue;
    }
    out.push({ value: v, index: i });
  }
  return out;
}

function cleansApkCache(script: ShellScript): boolean {
  for (const c of commandsInOrder(script)) {
    if (c.name !== "rm") continue;
    if (c.words.some((w) => w.value !== null && APK_CACHE_DIRS.some((d) => w.value!.startsWith(d)))) return true;
  }
  return opaqueSources(script).some((s) => s.includes("/var/cache/apk"));
}

function isUpdate(a: ApkCall): boolean {
  return a.subcommand === "update";
}

export const apkHygiene: Pass = {
  meta: {
    id,
    title: "apk hygiene",
    summary: "apk add --no-cache instead of apk update / --update; build-only packages in a .build-deps group",
    defaultEnabled: true,
    hadolintRules: ["DL3019"],
    doc: `## What it does
When caches are not kept in cache mounts (cache strategy \`none\`, or the
cache-mounts pass is off):
- \`apk add\`/\`apk upgrade\` get \`--no-cache\` (an \`--update\`/\`-U\` flag is
  replaced by it);
- an \`apk update &&\` that only served such calls is removed, and a RUN that
  only runs \`apk update\` is dropped once every later apk call fetches its own
  index.

Whatever the cache strategy, **unsafe**: in a RUN that installs compilers or
-dev packages and then runs \`pip install\`, the build-only packages go into
\`apk add --virtual .build-deps …\` and \`apk del .build-deps\` runs right after
the last \`pip install\` (guide 004). The runtime library of each -dev package
(\`libpq\` for \`postgresql-dev\`, \`libffi\` for \`libffi-dev\`…) is added to the
kept install.

## Why
\`apk update\` and \`apk add\` without \`--no-cache\` leave the package index
(~2 MB) in \`/var/cache/apk\` in the layer; \`--no-cache\` fetches it in memory.
Compilers and headers needed only to build wheels are hundreds of MB in the
final image unless removed in the same RUN (guide 004).

## Example
\`\`\`dockerfile
RUN apk update && apk add gcc musl-dev postgresql-dev && pip install -r requirements.txt
\`\`\`
becomes (with \`--cache-strategy none --unsafe\`)
\`\`\`dockerfile
RUN apk add --no-cache libpq && apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev && pip install -r requirements.txt && apk del .build-deps
\`\`\`

## Safety
- \`--no-cache\`: safe; apk fetches a fresh index in memory instead of reading
  the cached one. Never added inside an apk cache mount (the cache-mounts pass
  keeps the cache there on purpose).
- Removing \`apk update\`, or turning \`--update\`/\`-U\` into \`--no-cache\`
  (both stop writing the index later RUNs may read): safe when every apk
  call after it in the RUN, in the rest of the stage and in stages built on
  it fetches its own index (\`--no-cache\`/\`--update\`). An apk call dfopt
  can't read counts as a reader: dynamic words, exec-form or unparsed RUNs,
  apk behind a wrapper (\`xargs apk add\`, \`timeout 100 apk add\`,
  \`sh -c '…'\`), scripts the Dockerfile doesn't show.
- \`.build-deps\`: **unsafe**, always. \`apk del\` also removes everything only
  those packages pulled in; a shared library dfopt has no runtime package for
  stays installed (its -dev package is left out of the group), but code that
  compiles or looks up libraries with gcc at run time (cffi, ctypes'
  \`find_library\` on musl) breaks. Refused when a later command of the RUN or
  a later RUN of the stage compiles or installs again.

## References
- guide 004 (\`--no-cache\`, \`--virtual .build-deps\`, \`apk del\` in the same layer), guide 001 (apk cache dirs)
- Alpine wiki, Local APK cache: https://wiki.alpinelinux.org/wiki/Local_APK_cache
- hadolint DL3019
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const { runs } = analysableRuns(file);
    const shipped = shippedStages(file);
    for (const run of runs) {
      const calls = apkCalls(run.script);
      if (calls.length === 0) continue;
      // A RUN chain-runs will join gets the RUN-shaping repairs once joined (same result in any order).
      const chained = chainedNeighbours(file, run.node, options);
      if (cacheMode(options) === "none" && !overlapsApkCache(run)) {
        addNoCache(file, run, calls, changes, skips);
        if (!chained.next) removeUpdate(file, run, calls, changes);
      }
      if (shipped.has(run.node.stage) && !chained.previous && !chained.next) {
        buildDeps(file, run, calls, options, changes, skips);
      }
    }
    return { changes, skips };
  },
};

function overlapsApkCache(run: RunInfo): boolean {
  const targets = cacheMountTargets(run.node);
  return APK_CACHE_DIRS.some((d) => overlaps(targets, d));
}

function addNoCache(file: ParsedDockerfile, run: RunInfo, calls: ApkCall[], changes: Change[], skips: Skip[]): void {
  if (cleansApkCache(run.script)) return;
  for (const a of calls) {
    if ((a.subcommand !== "add" && a.subcommand !== "upgrade") || hasNoCache(a)) continue;
    const values = optionValues(a);
    if (values.some((v) => v === null || v === "--cache-dir")) continue;
    const update = a.command.words.findIndex(
      (w, i) => i >= a.call.argsFrom && (w.value === "--update" || w.value === "-U" || w.value === "--update-cache"),
    );
    // `--update` also leaves a fresh index behind for later RUNs: dropping it is like removing `apk update`.
    if (update >= 0 && !laterReadersFetch(file, run, a.command.end)) {
      skips.push({
        pass: id,
        at: fileSpan(run.node, a.command).start,
        reason: `apk ${a.subcommand} ${a.command.words[update]!.value} kept: a later apk call reads the index it leaves`,
      });
      continue;
    }
    const edit =
      update >= 0
        ? replaceSpan(run.node, a.command.words[update]!, "--no-cache")
        : insertAfterWord(run.node, a.command, a.sub, " --no-cache");
    changes.push({
      pass: id,
      edits: [edit],
      reason: `apk ${a.subcommand} --no-cache fetches the index in memory instead of leaving it in /var/cache/apk`,
      safety: "safe",
    });
  }
}

/**
 * `apk` named as a command word anywhere in a text (`xargs apk add`,
 * `timeout 100 apk add`, `sh -c 'apk add x'`, `["apk", "add"]`), but not as
 * a path component (`/var/cache/apk`, `/etc/apk/repositories`).
 */
function mentionsApk(text: string): boolean {
  // `apk --print-arch` only prints the architecture.
  text = text.replace(/\bapk\s+--print-arch\b/g, "");
  return /(^|[\s;&|()'"`=])((\/usr)?(\/local)?\/s?bin\/)?apk(?=[\s;&|()'"`]|$)/.test(text);
}

/**
 * True when every apk index reader after `from` (this RUN, later RUNs)
 * fetches its own index. Conservative: an apk call dfopt can't read (a
 * dynamic subcommand, behind a wrapper it doesn't model, in an exec-form or
 * unparsed RUN, in a compound it can't see into) counts as a reader.
 */
function laterReadersFetch(file: ParsedDockerfile, run: RunInfo, from: number): boolean {
  const readsWithoutFetch = (c: SimpleCommand, source: string): boolean => {
    const a = apkCall(c);
    if (a) return INDEX_READERS.has(a.subcommand) && !fetchesIndex(a);
    const call = packageManagerCall(c);
    if (call?.manager === "apk") return true; // subcommand not static
    return mentionsApk(source.slice(c.start, c.end));
  };
  for (const c of commandsInOrder(run.script)) {
    if (c.start < from) continue;
    if (readsWithoutFetch(c, run.script.source)) return false;
  }
  if (opaqueSources(run.script).some((src) => mentionsApk(src) && run.script.source.lastIndexOf(src) >= from)) {
    return false;
  }
  for (const later of laterInstructions(file, run.node)) {
    if (later.keyword !== "RUN") continue;
    const text = file.text.slice(later.bodyStart, later.end);
    if (later.form !== "shell" || !later.shell?.parse.ok) {
      if (mentionsApk(text)) return false;
      continue;
    }
    const script = later.shell.parse.script;
    if (opaqueSources(script).some(mentionsApk)) return false;
    for (const c of commandsInOrder(script)) {
      const a = apkCall(c);
      if (a && isUpdate(a)) break;
      if (readsWithoutFetch(c, script.source)) return false;
      if (runsOpaqueScript(c, slotOf(script, c)?.pipeline ?? null)) return false;
    }
  }
  return true;
}

function removeUpdate(file: ParsedDockerfile, run: RunInfo, calls: ApkCall[], changes: Change[]): void {
  if (cleansApkCache(run.script)) return;
  for (const u of calls) {
    if (!isUpdate(u) || u.command.redirects.length > 0) continue;
    // `apk update foo` (a lost line break?) is not what it looks like: leave it.
    if (u.command.words.slice(u.sub + 1).some((w) => w.value === null || !w.value.startsWith("-"))) continue;
    if (!laterReadersFetch(file, run, u.command.end)) continue;
    const slot = slotOf(run.script, u.command);
    if (!slot || slot.depth !== 0 || slot.statement.background || slot.pipeline.commands.length !== 1) continue;
    const { andOr, index } = slot;
    let start: number;
    let end: number;
    if (run.script.statements.length === 1 && andOr.pipelines.length === 1) {
      if (file.comments.some((c) => c.start > run.node.start && c.end < run.node.end)) continue;
      changes.push({
        pass: id,
        edits: [deleteInstruction(file, run.node)],
        reason: "a RUN that only runs apk update leaves the index in the image; every later apk call fetches its own",
        safety: "safe",
      });
      continue;
    }
    if (index === 0 && andOr.ops[0] === "&&") {
      start = fileSpan(run.node, slot.pipeline).start;
      end = fileSpan(run.node, andOr.pipelines[1]!).start;
    } else if (
      index > 0 &&
      andOr.ops[index - 1] === "&&" &&
      (index === andOr.ops.length || andOr.ops[index] === "&&")
    ) {
      start = fileSpan(run.node, andOr.pipelines[index - 1]!).end;
      end = fileSpan(run.node, slot.pipeline).end;
    } else continue;
    if (/(^|[\r\n])[ \t]*#/.test(file.text.slice(start, end))) continue;
    changes.push({
      pass: id,
      edits: [{ start, end, newText: "" }],
      reason:
        "apk update is redundant when every apk call fetches its own index with --no-cache, and it leaves the index in the layer",
      safety: "safe",
    });
  }
}

/** Commands that compile or install, and so may need the build group. */
function needsBuildTools(c: SimpleCommand, script: ShellScript): string | null {
  const call = packageManagerCall(c);
  if (
    call &&
    call.manager !== "apk" &&
    call.subcommand !== null &&
    ["install", "ci", "add", "build", "wheel"].includes(call.subcommand)
  ) {
    return `${c.name} ${call.subcommand}`;
  }
  const name = c.name?.slice(c.name.lastIndexOf("/") + 1) ?? null;
  if (name === null) return "a dynamic command";
  if (/^(gcc|cc|g\+\+|c\+\+|clang|make|cmake|ninja|cargo|rustc|go|ld|node-gyp|configure)$/.test(name)) return name;
  if (
    isPython(name) &&
    c.words.some((w) => w.value === "setup.py" || w.value === "build" || w.value === "compileall")
  ) {
    return `${name} ${c.words[1]?.value ?? ""}`.trim();
  }
  if (runsOpaqueScript(c, slotOf(script, c)?.pipeline ?? null)) return name;
  return null;
}

function alpineVersion(image: string | null): [number, number] | null {
  if (!image) return null;
  const { repo, tag } = parseImage(image);
  const m = repo === "alpine" ? /^(\d+)\.(\d+)/.exec(tag ?? "") : /alpine(\d+)\.(\d+)/.exec(tag ?? "");
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function buildDeps(
  file: ParsedDockerfile,
  run: RunInfo,
  calls: ApkCall[],
  options: PassOptions,
  changes: Change[],
  skips: Skip[],
): void {
  const ordered = commandsInOrder(run.script);
  const pipInstalls = ordered.filter((c) => {
    const call = packageManagerCall(c);
    return call?.manager === "pip" && call.subcommand === "install";
  });
  if (pipInstalls.length === 0) return;
  if (
    calls.some(
      (a) =>
        a.subcommand === "del" ||
        optionValues(a).some((v) => v === null || v === "-t" || v.startsWith("--virtual") || /^-t./.test(v)),
    )
  ) {
    return;
  }
  const add = calls.find((a) => a.subcommand === "add" && a.command.start < pipInstalls[0]!.start);
  if (!add) return;
  const at = fileSpan(run.node, add.command).start;
  const pkgs = packagesOf(add);
  if (pkgs.some((p) => p.value === null)) return;
  const names = pkgs.map((p) => p.value!.split(/[=<>~]/)[0]!);
  const alpine = alpineVersion(baseImageOf(file, file.stages[run.node.stage]!));
  const build = pkgs.filter((_p, k) => APK_BUILD_TOOLS.has(names[k]!) || runtimePackageFor(names[k]!, alpine));
  if (build.length === 0) return;
  const addSlot = canAppendAfter(run.script, add.command);
  const lastPip = pipInstalls[pipInstalls.length - 1]!;
  const pipSlot = canAppendAfter(run.script, lastPip);
  if (!addSlot || !pipSlot || addSlot.pipeline.commands.length !== 1 || add.command.redirects.length > 0) {
    skips.push({ pass: id, at, reason: "build packages kept: the apk add or pip install is not in a plain && chain" });
    return;
  }
  // Nothing after `apk del` may need the compilers.
  for (const c of ordered) {
    if (c.start < pipSlot.pipeline.end) continue;
    const why = needsBuildTools(c, run.script);
    if (why) {
      skips.push({ pass: id, at, reason: `build packages kept: ${why} runs after the pip install` });
      return;
    }
  }
  for (const later of laterInstructions(file, run.node)) {
    if (later.keyword !== "RUN") continue;
    if (!later.shell?.parse.ok) {
      skips.push({ pass: id, at, reason: `build packages kept: the RUN on line ${later.line} can't be analysed` });
      return;
    }
    const script = later.shell.parse.script;
    for (const c of commandsInOrder(script)) {
      const why = needsBuildTools(c, script);
      if (why) {
        skips.push({ pass: id, at, reason: `build packages kept: ${why} runs later (line ${later.line})` });
        return;
      }
    }
  }
  const words = add.command.words;
  if (words.slice(add.call.argsFrom).some((w) => OPTIONS_WITH_VALUE.has(w.value!))) {
    skips.push({ pass: id, at, reason: "build packages kept: the apk add has options with values (-X, --root…)" });
    return;
  }
  if (words.some((w) => w.value === null)) return;
  const flags = words
    .slice(add.call.argsFrom)
    .filter((w) => w.value!.startsWith("-"))
    .map((w) => w.source);
  const manager = run.script.source.slice(words[0]!.start, words[add.call.argsFrom - 1]!.end);
  const runtime = [...new Set(build.map((p) => runtimePackageFor(p.value!.split(/[=<>~]/)[0]!, alpine)))].filter(
    (r): r is string => r !== undefined && !names.includes(r),
  );
  const keep = pkgs.filter((p) => !build.includes(p));
  // The original add becomes the build group; what stays goes in an add of its own before it.
  const edits: Edit[] = [insertAfterWord(run.node, add.command, add.sub, ` --virtual ${BUILD_GROUP}`)];
  if (keep.length > 0 || runtime.length > 0) {
    for (const p of keep) edits.push(removeWordOrLine(file, run.node, words[p.index]!));
    const kept = [...flags, ...keep.map((p) => words[p.index]!.source), ...runtime].join(" ");
    const { start } = fileSpan(run.node, add.command);
    edits.push({ start, end: start, newText: `${manager} add ${kept} && ` });
  }
  edits.push(appendAfter(file, run.node, pipSlot, `${manager} del ${BUILD_GROUP}`));
  void options;
  changes.push({
    pass: id,
    edits: mergeSameOffset(edits),
    reason: `build-only packages (${build.map((p) => p.value).join(", ")}) installed as ${BUILD_GROUP} and removed after pip install in the same RUN${runtime.length > 0 ? `; ${runtime.join(", ")} kept for run time` : ""}`,
    safety: "unsafe",
    unsafeBecause:
      "apk del .build-deps also removes what only those packages pulled in: code that compiles or finds libraries with gcc at run time (cffi, ctypes find_library on musl) breaks, and a shared library without a known runtime package must be kept by hand",
  });
}

/** Two insertions at one offset (e.g. after the same word) become one edit. */
function mergeSameOffset(edits: Edit[]): Edit[] {
  const out: Edit[] = [];
  for (const e of [...edits].sort((a, b) => a.start - b.start || a.end - b.end)) {
    const prev = out[out.length - 1];
    if (prev && prev.start === prev.end && e.start === e.end && prev.start === e.start) {
      out[out.length - 1] = { start: prev.start, end: prev.end, newText: prev.newText + e.newText };
    } else out.push(e);
  }
  return out;
}
