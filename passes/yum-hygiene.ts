import type { ParsedDockerfile } from "../src/dockerfile.js";
import type { ShellScript, SimpleCommand } from "../src/shell.js";
import type { Change, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import {
  appendAfter,
  cacheMountTargets,
  canAppendAfter,
  chainedNeighbours,
  commandsInOrder,
  hasOption,
  laterInstructions,
  opaqueSources,
  overlaps,
  shippedStages,
  stageChain,
  subcommandCalls,
  type SubcommandCall,
} from "./lib/hygiene.js";
import { type PackageManager, OPTIONS_WITH_VALUE as SHARED_OPTIONS_WITH_VALUE } from "./lib/package-managers.js";
import { analysableRuns, fileSpan, insertAfterWord, type RunInfo } from "./lib/runs.js";

const id = "yum-hygiene";

const CACHE_DIRS = ["/var/cache/yum", "/var/cache/dnf"];
const OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(SHARED_OPTIONS_WITH_VALUE.yum);
const INSTALLS = new Set(["install", "groupinstall", "localinstall", "reinstall"]);
/** Subcommands that download metadata or packages into the cache. */
const FILLS_CACHE = new Set([...INSTALLS, "update", "upgrade", "makecache", "distro-sync", "group", "module", "swap"]);

type YumCall = SubcommandCall;
const YUM: ReadonlySet<PackageManager> = new Set(["yum", "dnf", "microdnf"]);

function yumCalls(script: ShellScript): YumCall[] {
  return subcommandCalls(script, YUM);
}

function cleansCache(script: ShellScript, calls: YumCall[]): boolean {
  if (calls.some((c) => c.subcommand === "clean")) return true;
  for (const c of commandsInOrder(script)) {
    if (c.name !== "rm") continue;
    if (c.words.some((w) => w.value !== null && CACHE_DIRS.some((d) => w.value!.startsWith(d)))) return true;
  }
  return opaqueSources(script).some((s) => CACHE_DIRS.some((d) => s.includes(d)) || /(yum|dnf) clean/.test(s));
}

export const yumHygiene: Pass = {
  meta: {
    id,
    title: "yum/dnf hygiene",
    summary: "yum/dnf install -y, and yum/dnf clean all in the same RUN",
    defaultEnabled: true,
    hadolintRules: ["DL3030", "DL3032", "DL3038", "DL3040"],
    doc: `## What it does
- Adds \`-y\` to \`yum install\`/\`dnf install\` (also \`groupinstall\`,
  \`localinstall\`, \`reinstall\`) that lack it.
- When caches are not kept in cache mounts (cache strategy \`none\`, or the
  cache-mounts pass is off), appends \`yum clean all\` (\`dnf clean all\`,
  \`microdnf clean all\`) after the last yum/dnf command of a RUN that
  installs or updates, in the stages that end up in the image.

## Why
Without \`-y\` the build stops at a confirmation prompt it cannot answer.
yum and dnf keep repository metadata (often 100+ MB) and, depending on
\`keepcache\`, packages under \`/var/cache/yum\` or \`/var/cache/dnf\`; cleaning
them in a later RUN saves nothing. PARFUM repairs the same smells.

## Example
\`\`\`dockerfile
RUN yum install httpd
\`\`\`
becomes (with \`--cache-strategy none\`)
\`\`\`dockerfile
RUN yum install -y httpd && yum clean all
\`\`\`

## Safety
Safe. \`-y\` only answers the prompt. \`yum clean all\` drops caches that a
later yum command downloads again; refused when a later RUN runs yum/dnf in
cache-only mode (\`-C\`), when the cache holds something the build uses (a
call with \`--downloadonly\` without \`--downloaddir\`, a later command of
the RUN or a later instruction that mentions \`/var/cache/yum\` or
\`/var/cache/dnf\`), when the author keeps the cache on purpose
(\`keepcache=1\` in the call or earlier in the stage), and never added inside
a cache mount of the yum/dnf cache or where the RUN already cleans.

## References
- guide 004 (remove package manager caches in the same layer)
- hadolint DL3030, DL3032, DL3038, DL3040
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const shipped = shippedStages(file);
    for (const run of analysableRuns(file).runs) {
      const calls = yumCalls(run.script);
      if (calls.length === 0) continue;
      for (const y of calls) {
        if (!INSTALLS.has(y.subcommand) || y.call.manager === "microdnf") continue;
        const values = y.command.words.slice(y.call.argsFrom).map((w) => w.value);
        if (hasOption(values, "y", ["--assumeyes", "--assume-yes"]) || values.some((v) => v === null)) continue;
        changes.push({
          pass: id,
          edits: [insertAfterWord(run.node, y.command, y.sub, " -y")],
          reason: `${y.call.manager} ${y.subcommand} without -y stops at a prompt a build cannot answer`,
          safety: "safe",
        });
      }
      const chained = chainedNeighbours(file, run.node, options);
      if (shipped.has(run.node.stage) && !chained.previous && !chained.next)
        addClean(file, run, calls, options, changes, skips);
    }
    return { changes, skips };
  },
};

function addClean(
  file: ParsedDockerfile,
  run: RunInfo,
  calls: YumCall[],
  options: PassOptions,
  changes: Change[],
  skips: Skip[],
): void {
  if (cacheMode(options) !== "none") return;
  if (!calls.some((y) => FILLS_CACHE.has(y.subcommand))) return;
  if (CACHE_DIRS.some((d) => overlaps(cacheMountTargets(run.node), d))) return;
  if (cleansCache(run.script, calls)) return;
  const last = calls[calls.length - 1]!;
  const at = fileSpan(run.node, last.command).start;
  const slot = canAppendAfter(run.script, last.command);
  if (!slot) {
    skips.push({
      pass: id,
      at,
      reason: `${last.call.manager} clean all not added: the last ${last.call.manager} command is not in a plain && chain`,
    });
    return;
  }
  const keeps = keptCache(file, run, calls, slot.pipeline.end);
  if (keeps) {
    skips.push({ pass: id, at, reason: `${last.call.manager} clean all not added: ${keeps}` });
    return;
  }
  for (const later of laterInstructions(file, run.node)) {
    if (later.keyword !== "RUN") continue;
    const text = file.text.slice(later.bodyStart, later.end);
    if (/\b(yum|dnf|microdnf)\b[^\n]*\s(-C|--cacheonly)\b/.test(text)) {
      skips.push({
        pass: id,
        at,
        reason: `cache kept: the RUN on line ${later.line} runs ${last.call.manager} from the cache only (-C)`,
      });
      return;
    }
  }
  const words = last.command.words;
  const manager = run.script.source.slice(words[0]!.start, words[last.call.argsFrom - 1]!.end);
  changes.push({
    pass: id,
    edits: [appendAfter(file, run.node, slot, `${manager} clean all`)],
    reason: `${last.call.manager} clean all in the same RUN keeps repository metadata and packages out of the layer`,
    safety: "safe",
  });
}

/**
 * Why the cache holds something the build still uses, or null: packages a
 * `--downloadonly` call put there (without `--downloaddir`), a `keepcache=1`
 * setting the author chose (in the call, in the RUN or earlier in the stage),
 * or a later command of the RUN or later instruction that reads
 * /var/cache/yum or /var/cache/dnf.
 */
function keptCache(file: ParsedDockerfile, run: RunInfo, calls: YumCall[], after: number): string | null {
  for (const y of calls) {
    const values = y.command.words.slice(y.call.argsFrom).map((w) => w.value ?? "");
    if (values.includes("--downloadonly") && !values.some((v) => v.startsWith("--downloaddir") || v === "--destdir")) {
      return `${y.call.manager} --downloadonly leaves the packages in the cache`;
    }
    if (
      values.some(
        (v, k) => /keepcache=(1|true|yes)/i.test(v) && (v.startsWith("--setopt") || values[k - 1] === "--setopt"),
      )
    ) {
      return "the call keeps its cache (keepcache=1)";
    }
  }
  const stage = file.stages[run.node.stage];
  for (const s of stage ? stageChain(file, stage) : []) {
    for (const i of s.instructions) {
      if (s.index === run.node.stage && i.index > run.node.index) break;
      if (i.keyword === "FROM") continue;
      if (/keepcache\s*=\s*(1|true|yes)/i.test(file.text.slice(i.bodyStart, i.end))) {
        return `line ${i.line} sets keepcache=1: the cache is kept on purpose`;
      }
    }
  }
  const reads = (text: string): boolean => CACHE_DIRS.some((d) => text.includes(d));
  if (reads(run.script.source.slice(after))) return "a later command of the RUN reads the cache";
  const later = laterInstructions(file, run.node).find((i) => reads(file.text.slice(i.bodyStart, i.end)));
  return later ? `line ${later.line} reads the cache` : null;
}
