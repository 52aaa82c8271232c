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
cache-only mode (\`-C\`), and never added inside a cache mount of the yum/dnf
cache or where the RUN already cleans.

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
