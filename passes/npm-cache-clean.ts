import type { ParsedDockerfile } from "../src/dockerfile.js";
import type { ShellScript, SimpleCommand } from "../src/shell.js";
import { homeOf } from "../src/stage-facts.js";
import type { Change, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import {
  appendAfter,
  cacheMountTargets,
  canAppendAfter,
  chainedNeighbours,
  commandsInOrder,
  envBefore,
  laterInstructions,
  opaqueSources,
  overlaps,
  shippedStages,
} from "./lib/hygiene.js";
import { isInstall, packageManagerCall } from "./lib/package-managers.js";
import { analysableRuns, fileSpan, type RunInfo } from "./lib/runs.js";

const id = "npm-cache-clean";

type Tool = "npm" | "yarn";

function toolOf(command: SimpleCommand): Tool | null {
  const call = packageManagerCall(command);
  if (call?.manager === "npm") return "npm";
  if (call?.manager === "yarn") return "yarn";
  return command.name === "npx" ? "npm" : null;
}

function installs(command: SimpleCommand, tool: Tool): boolean {
  const call = packageManagerCall(command);
  return call !== null && call.manager === tool && isInstall(call);
}

function cleans(script: ShellScript, tool: Tool): boolean {
  for (const c of commandsInOrder(script)) {
    const words = c.words.map((w) => w.value ?? "");
    if (toolOf(c) === tool && words.includes("cache") && (words.includes("clean") || words.includes("rm"))) return true;
    if (
      c.name === "rm" &&
      words.some((w) => (tool === "npm" ? /\.npm\b|_cacache/.test(w) : /yarn/.test(w) && /cache/.test(w)))
    ) {
      return true;
    }
  }
  return opaqueSources(script).some((s) => new RegExp(`${tool} cache (clean|rm)`).test(s));
}

/** Cache directories of each tool for a user (defaults of npm and Yarn 1). */
function cacheDirs(tool: Tool, home: string, env: Map<string, string>): string[] {
  if (tool === "npm")
    return [`${home}/.npm`, env.get("npm_config_cache") ?? env.get("NPM_CONFIG_CACHE") ?? `${home}/.npm`];
  return [`${home}/.cache/yarn`, "/usr/local/share/.cache/yarn", env.get("YARN_CACHE_FOLDER") ?? `${home}/.yarn`];
}

/** Signs of Yarn 2+ (berry), whose `yarn cache clean` deletes the project's own package cache. */
function berryHint(file: ParsedDockerfile, options: PassOptions): string | null {
  if (/corepack|yarn set version|\.yarnrc\.yml|yarnPath|berry|yarn@[2-9]/.test(file.text))
    return "the Dockerfile uses Yarn 2+";
  if (options.buildContext?.exists(".yarnrc.yml")) return "the build context has .yarnrc.yml (Yarn 2+)";
  return null;
}

export const npmCacheClean: Pass = {
  meta: {
    id,
    title: "npm/yarn cache clean",
    summary: "npm cache clean --force / yarn cache clean after installs in the same RUN",
    defaultEnabled: true,
    hadolintRules: ["DL3060"],
    doc: `## What it does
When caches are not kept in cache mounts (cache strategy \`none\`, or the
cache-mounts pass is off), appends \`npm cache clean --force\` after the last
npm command of a RUN that runs \`npm install\`/\`npm ci\`, and
\`yarn cache clean\` after the last yarn command of a RUN that runs
\`yarn\`/\`yarn install\`/\`yarn add\`, in the stages that end up in the image.

## Why
npm keeps every tarball it fetched in \`~/.npm/_cacache\`, Yarn 1 in
\`/usr/local/share/.cache/yarn\`: often hundreds of MB that the image never
reads again. PARFUM and hadolint (DL3060) repair the same smell.

## Example
\`\`\`dockerfile
RUN npm ci && npm run build
\`\`\`
becomes (with \`--cache-strategy none\`)
\`\`\`dockerfile
RUN npm ci && npm run build && npm cache clean --force
\`\`\`

## Safety
- npm: safe; the cache only speeds up later installs. Refused when a later
  RUN installs \`--offline\`/\`--prefer-offline\`, and never inside an npm cache
  mount or where the RUN already cleans.
- yarn: safe only when the build context is known and has no \`.yarnrc.yml\`
  and the Dockerfile shows no Yarn 2+ (corepack, \`yarn set version\`):
  Yarn 2+ keeps the project's packages in its cache, and \`yarn cache clean\`
  deletes them. **Unsafe** when the context is unknown; skipped when Yarn 2+
  is seen.

## References
- guide 004 (remove caches in the same layer)
- npm cache: https://docs.npmjs.com/cli/commands/npm-cache
- hadolint DL3060
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    if (cacheMode(options) !== "none") return { changes, skips };
    const shipped = shippedStages(file);
    for (const run of analysableRuns(file).runs) {
      const chained = chainedNeighbours(file, run.node, options);
      if (!shipped.has(run.node.stage) || chained.previous || chained.next) continue;
      for (const tool of ["npm", "yarn"] as const) clean(file, run, tool, options, changes, skips);
    }
    return { changes, skips };
  },
};

function clean(
  file: ParsedDockerfile,
  run: RunInfo,
  tool: Tool,
  options: PassOptions,
  changes: Change[],
  skips: Skip[],
): void {
  const ordered = commandsInOrder(run.script);
  if (!ordered.some((c) => installs(c, tool))) return;
  const env = envBefore(file, run.node);
  if (cacheDirs(tool, homeOf(run.context.user), env).some((d) => overlaps(cacheMountTargets(run.node), d))) return;
  if (cleans(run.script, tool)) return;
  const last = [...ordered].reverse().find((c) => toolOf(c) === tool)!;
  if (last.words.some((w) => w.value === "--cache" || w.value?.startsWith("--cache="))) return;
  const at = fileSpan(run.node, last).start;
  const slot = canAppendAfter(run.script, last);
  if (!slot) {
    skips.push({ pass: id, at, reason: `${tool} cache kept: the last ${tool} command is not in a plain && chain` });
    return;
  }
  let unsafeBecause: string | undefined;
  if (tool === "yarn") {
    const berry = berryHint(file, options);
    if (berry) {
      skips.push({ pass: id, at, reason: `yarn cache kept: ${berry}, whose cache holds the project's packages` });
      return;
    }
    if (!options.buildContext) {
      unsafeBecause =
        "with Yarn 2+ (a .yarnrc.yml in the project) the cache holds the installed packages and yarn cache clean deletes them; the build context was not available to rule it out";
    }
  }
  for (const later of laterInstructions(file, run.node)) {
    if (later.keyword === "RUN" && /--(prefer-)?offline\b/.test(file.text.slice(later.bodyStart, later.end))) {
      skips.push({
        pass: id,
        at,
        reason: `${tool} cache kept: the RUN on line ${later.line} installs offline from it`,
      });
      return;
    }
  }
  const words = last.words;
  const call = packageManagerCall(last);
  const managerEnd = call ? words[call.argsFrom - 1]!.end : words[0]!.end;
  const prefix = run.script.source.slice(words[0]!.start, managerEnd).replace(/\S+$/, "");
  const command = tool === "npm" ? "npm cache clean --force" : "yarn cache clean";
  changes.push({
    pass: id,
    edits: [appendAfter(file, run.node, slot, `${prefix}${command}`)],
    reason: `${command} in the same RUN keeps the ${tool} download cache out of the layer`,
    safety: unsafeBecause ? "unsafe" : "safe",
    ...(unsafeBecause ? { unsafeBecause } : {}),
  });
}
