import type { ParsedDockerfile, Stage } from "../src/dockerfile.js";
import type { Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import {
  baseImageOf,
  beforeChain,
  envBefore,
  insertLineAbove,
  parseImage,
  removeWordOrLine,
  shippedStages,
  stageChain,
} from "./lib/hygiene.js";
import { pipCacheMounted, pipInstalls, type PipInstall } from "./lib/pip-calls.js";
import { analysableRuns, fileSpan, replaceSpan, type RunInfo } from "./lib/runs.js";

const id = "uv-install";

/** Pinned so builds stay reproducible; bump deliberately. */
export const UV_VERSION = "0.8.23";
export const UV_COPY = `COPY --from=ghcr.io/astral-sh/uv:${UV_VERSION} /uv /uvx /bin/`;

/** pip options uv accepts with the same meaning (value-taking ones take the next word unless `=`). */
const SAME = new Set([
  "-U",
  "--upgrade",
  "--no-deps",
  "--no-index",
  "-q",
  "--quiet",
  "-v",
  "--verbose",
  "--require-hashes",
  "--no-build-isolation",
  "--break-system-packages",
]);
const SAME_WITH_VALUE = new Set([
  "-r",
  "--requirement",
  "-c",
  "--constraint",
  "-e",
  "--editable",
  "-i",
  "--index-url",
  "--extra-index-url",
  "-f",
  "--find-links",
  "-t",
  "--target",
  "--prefix",
]);
/** pip options with a different uv spelling. */
const RENAMED: Record<string, string> = {
  "--no-cache-dir": "--no-cache",
  "--pre": "--prerelease=allow",
  "--force-reinstall": "--reinstall",
};
/** pip options that mean nothing to uv and can go. */
const DROPPED = new Set(["--no-compile", "--disable-pip-version-check", "--no-warn-script-location"]);
/** pip environment variables uv ignores: with them set, the install would change. */
const PIP_ENV_OK = new Set([
  "PIP_NO_CACHE_DIR",
  "PIP_DISABLE_PIP_VERSION_CHECK",
  "PIP_ROOT_USER_ACTION",
  "PIP_NO_COMPILE",
]);

type Plan = { edits: Edit[]; noCompile: boolean } | { refuse: string };

function planFlags(file: ParsedDockerfile, p: PipInstall, run: RunInfo): Plan {
  const edits: Edit[] = [];
  let noCompile = false;
  const words = p.command.words;
  let packages = 0;
  for (let i = p.sub + 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return { refuse: `${words[i]!.source} expands at run time` };
    if (!v.startsWith("-")) {
      if (!/^(pip|setuptools|wheel)([<>=!~].*)?$/i.test(v)) packages++;
      continue;
    }
    const name = v.split("=")[0]!;
    if (SAME.has(v)) continue;
    if (SAME_WITH_VALUE.has(name)) {
      if (!v.includes("=") && !/^-[rcefit].+/.test(v)) {
        i++;
        packages++;
      } else packages++;
      continue;
    }
    if (RENAMED[v]) {
      edits.push(replaceSpan(run.node, words[i]!, RENAMED[v]!));
      continue;
    }
    if (DROPPED.has(v) || name === "--root-user-action" || name === "--progress-bar") {
      if (v === "--no-compile") noCompile = true;
      edits.push(removeWordOrLine(file, run.node, words[i]!));
      continue;
    }
    return { refuse: `pip option ${v} has no uv pip equivalent dfopt knows` };
  }
  if (packages === 0) return { refuse: "it only upgrades pip/setuptools/wheel" };
  return { edits, noCompile };
}

/** uv installs into Python ≥ 3.8 only: require an official python image that is new enough. */
function pythonTooOldOrUnknown(file: ParsedDockerfile, stage: Stage): string | null {
  const image = baseImageOf(file, stage);
  if (!image) return "the stage's base image is not static";
  const { repo, tag } = parseImage(image);
  if (repo !== "python") return `uv needs Python ≥ 3.8 and dfopt can't tell which Python ${repo} has`;
  const m = /^(\d+)(?:\.(\d+))?/.exec(tag ?? "");
  if (!m) return null;
  const major = Number(m[1]);
  const minor = m[2] === undefined ? 99 : Number(m[2]);
  return major === 3 && minor >= 8 ? null : `uv needs Python ≥ 3.8; the stage uses python:${tag}`;
}

function hasUv(file: ParsedDockerfile, stage: Stage): boolean {
  return stageChain(file, stage).some((s) =>
    s.instructions.some((i) =>
      /astral-sh\/uv|pip3? install[^\n]*\buv\b|astral\.sh\/uv/.test(file.text.slice(i.start, i.end)),
    ),
  );
}

export const uvInstall: Pass = {
  meta: {
    id,
    title: "pip install → uv pip install (opt-in)",
    summary: "Install Python packages with uv (uv pip install --system), copying a pinned uv binary in",
    defaultEnabled: false,
    doc: `## What it does
Rewrites \`pip install …\` (\`pip3\`, \`python -m pip\`, \`python3 -m pip\`) as
\`uv pip install --system --compile-bytecode …\`, and adds
\`${UV_COPY}\` to the stage, above its first rewritten RUN. Options are
mapped (\`--no-cache-dir\` → \`--no-cache\`, \`--pre\` → \`--prerelease=allow\`,
\`--force-reinstall\` → \`--reinstall\`; \`--no-compile\` drops
\`--compile-bytecode\`); with cache strategy \`none\` and no cache mount,
\`--no-cache\` is added as pip-hygiene would.

## Why
uv resolves and installs 10–100× faster than pip (guide 001 installs it for
"faster dependency resolution"). Copying the static binary from the
official image adds ~30 MB to no layer that ships when the stage is a
builder, and needs no pip bootstrap.

## Example
\`\`\`dockerfile
RUN pip install --no-cache-dir -r requirements.txt
\`\`\`
becomes
\`\`\`dockerfile
${UV_COPY}
RUN uv pip install --system --compile-bytecode --no-cache -r requirements.txt
\`\`\`

## Safety
**Unsafe**, always: uv's resolver may choose other versions than pip for
loose requirements, it reads \`--extra-index-url\` with a first-index strategy
(pip merges indexes), and it ignores \`PIP_*\` variables and \`pip.conf\`.
Refused (skip) unless the stage builds on an official \`python:3.8+\`
image (uv supports no older Python, and dfopt can't see which Python
another base has), for \`--user\`, a pip named by path (\`/venv/bin/pip\`,
\`python3.11 -m pip\`: \`--system\` would pick another interpreter), any option
dfopt can't map, \`PIP_*\` configuration or a \`pip.conf\` in the Dockerfile,
and calls that only upgrade pip/setuptools/wheel.

## References
- guide 001 (uv for faster dependency resolution)
- uv in Docker: https://docs.astral.sh/uv/guides/integration/docker/
- uv pip interface, compatibility with pip: https://docs.astral.sh/uv/pip/compatibility/
`,
  },
  run(file: ParsedDockerfile, options: PassOptions): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    if (/pip\.conf/.test(file.text)) return { changes, skips };
    const shipped = shippedStages(file);
    // One change per stage: its pip rewrites and the uv COPY go together or not at all.
    const perStage = new Map<number, { edits: Edit[]; first: RunInfo }>();
    for (const run of analysableRuns(file).runs) {
      for (const p of pipInstalls(run)) {
        const at = fileSpan(run.node, p.command).start;
        const managerWord = p.command.words[p.call.argsFrom - 1]!;
        const first = p.command.words.findIndex((w) => w.start === managerWord.start);
        // `python -m pip`: start at the interpreter word.
        const startIdx =
          p.call.argsFrom >= 3 && p.command.words[p.call.argsFrom - 2]?.value === "-m" ? p.call.argsFrom - 3 : first;
        const program = p.command.words[startIdx]!.value ?? "";
        if (!/^(pip3?|python3?)$/.test(program)) {
          skips.push({
            pass: id,
            at,
            reason: `${program} left to pip: uv --system would use the python on PATH instead`,
          });
          continue;
        }
        if (p.command.words.some((w) => w.value === "--user")) {
          skips.push({ pass: id, at, reason: "pip install --user has no uv pip equivalent" });
          continue;
        }
        const env = envBefore(file, run.node);
        const pipEnv = [...env.keys(), ...p.command.assigns.map((a) => a.name)].find(
          (n) => n.startsWith("PIP_") && !PIP_ENV_OK.has(n),
        );
        if (pipEnv) {
          skips.push({ pass: id, at, reason: `${pipEnv} configures pip; uv ignores it` });
          continue;
        }
        const old = pythonTooOldOrUnknown(file, file.stages[run.node.stage]!);
        if (old) {
          skips.push({ pass: id, at, reason: `left to pip: ${old}` });
          continue;
        }
        const plan = planFlags(file, p, run);
        if ("refuse" in plan) {
          if (!plan.refuse.startsWith("it only upgrades"))
            skips.push({ pass: id, at, reason: `left to pip: ${plan.refuse}` });
          continue;
        }
        let head = "uv pip install --system";
        if (!plan.noCompile) head += " --compile-bytecode";
        const hasNoCache = p.command.words.some((w) => w.value === "--no-cache-dir");
        if (
          !hasNoCache &&
          cacheMode(options) === "none" &&
          shipped.has(run.node.stage) &&
          !pipCacheMounted(file, run) &&
          !env.has("PIP_NO_CACHE_DIR")
        ) {
          head += " --no-cache";
        }
        const start = fileSpan(run.node, p.command.words[startIdx]!).start;
        const end = fileSpan(run.node, p.command.words[p.sub]!).end;
        const entry = perStage.get(run.node.stage) ?? { edits: [], first: run };
        entry.edits.push({ start, end, newText: head }, ...plan.edits);
        perStage.set(run.node.stage, entry);
      }
    }
    for (const [stageIndex, { edits, first }] of perStage) {
      if (!hasUv(file, file.stages[stageIndex]!))
        edits.push(insertLineAbove(file, beforeChain(file, first.node, options), UV_COPY));
      changes.push({
        pass: id,
        edits,
        reason: "pip install → uv pip install --system: the same packages, resolved and installed much faster",
        safety: "unsafe",
        unsafeBecause:
          "uv may resolve loose requirements to other versions than pip, uses a first-index strategy for extra indexes, and ignores pip configuration",
      });
    }
    return { changes, skips };
  },
};
