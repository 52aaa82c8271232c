import type { InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import type { SimpleCommand } from "../src/shell.js";
import type { Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import {
  baseImageOf,
  beforeChain,
  commandsInOrder,
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

/** The official python image's PATH: its pip and python live in /usr/local/bin. */
const IMAGE_PATH = "/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin";
/** Variables that point pip at a virtualenv or conda environment. */
const ENV_VARS = ["VIRTUAL_ENV", "CONDA_PREFIX", "CONDA_DEFAULT_ENV"];
/** Marks a variable dfopt can't expand (kept as written after it, for messages). */
const UNKNOWN = "\u0000";

/** `$A`, `${A}`, `${A:-x}` expanded from `vars` (unknown ones become UNKNOWN); quotes dropped. */
function expand(value: string, vars: ReadonlyMap<string, string>): string {
  return value
    .replace(/["']/g, "")
    .replace(
      /\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-=]([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
      (m: string, braced, def, bare) => {
        const name = (braced ?? bare) as string;
        return vars.get(name) ?? (def as string | undefined) ?? `${UNKNOWN}${m}`;
      },
    );
}

/**
 * ENV and ARG values in effect at `node` (its stage and the stages it is
 * built FROM), each expanded with the values set before it, so
 * `ENV PATH="$VIRTUAL_ENV/bin:$PATH"` reads as the directories it names.
 * PATH starts as the official python image's.
 */
function effectiveEnv(file: ParsedDockerfile, node: InstructionNode): Map<string, string> {
  const vars = new Map<string, string>([["PATH", IMAGE_PATH]]);
  for (const stage of stageChain(file, file.stages[node.stage]!)) {
    for (const i of stage.instructions) {
      if (stage.index === node.stage && i.index >= node.index) break;
      if (i.keyword !== "ENV" && !(i.keyword === "ARG" && stage.index === node.stage)) continue;
      const values = i.args.map((a) => a.value);
      const pairs: [string, string | null][] =
        i.keyword === "ENV" && values.length > 0 && !values[0]!.includes("=")
          ? [[values[0]!, values.slice(1).join(" ")]]
          : values.map((v) =>
              v.includes("=") ? [v.slice(0, v.indexOf("=")), v.slice(v.indexOf("=") + 1)] : [v, null],
            );
      for (const [name, value] of pairs) {
        // `ARG X` without a default: set at build time, value unknown.
        vars.set(name, value === null ? (vars.get(name) ?? `${UNKNOWN}$${name}`) : expand(value, vars));
      }
    }
  }
  return vars;
}

/**
 * The first PATH directory searched before /usr/local/bin (where the
 * python image's pip and python are), other than /usr/local/sbin: a pip or
 * python there (a virtualenv's, conda's) is the one the RUN calls.
 */
function pathShadowingSystem(path: string): string | null {
  for (const dir of path.split(":")) {
    const d = dir.length > 1 ? dir.replace(/\/+$/, "") : dir;
    if (d === "/usr/local/bin") return null;
    if (d === "/usr/local/sbin") continue;
    // An empty entry is the working directory.
    return d === "" ? "the working directory (an empty entry)" : d.replaceAll(UNKNOWN, "");
  }
  return null;
}

/** The user RUN runs as: the stage's USER, else its parent stage's, else root (the python image's). */
function effectiveUser(file: ParsedDockerfile, run: RunInfo): string {
  if (!run.context.userFromBase) return run.context.user;
  const chain = stageChain(file, file.stages[run.node.stage]!).reverse().slice(1);
  for (const stage of chain) {
    const users = stage.instructions.filter((i) => i.keyword === "USER");
    const last = users[users.length - 1];
    if (last) return last.args[0]?.value ?? "root";
  }
  return "root";
}

function isRoot(user: string): boolean {
  const name = user.split(":")[0]!;
  return name === "root" || name === "0";
}

/** Commands that make a following `pip` another environment's pip. */
function activation(c: SimpleCommand): boolean {
  const words = c.words.map((w) => w.value);
  const name = c.name ?? "";
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (name === "source" || name === "." || name === "eval" || base === "activate" || name === "workon") return true;
  if (/^(conda|mamba|micromamba)$/.test(base) && words[1] === "activate") return true;
  return base === "pyenv" && /^(activate|shell|local|global)$/.test(words[1] ?? "");
}

const ENV_ASSIGN = new RegExp(`^(PATH|${ENV_VARS.join("|")})=`);

/**
 * Why `pip` in this call may be a virtualenv's or conda environment's pip
 * (where `uv pip install --system` would not install: it skips virtual
 * environments), or null when it is the python image's own.
 */
function virtualEnvironment(file: ParsedDockerfile, p: PipInstall): string | null {
  const run = p.run;
  const env = effectiveEnv(file, run.node);
  for (const name of ENV_VARS) {
    const value = env.get(name);
    if (value !== undefined && value !== "") return `${name} is set, so pip may install into that environment`;
  }
  const shadow = pathShadowingSystem(env.get("PATH") ?? IMAGE_PATH);
  if (shadow) return `PATH searches ${shadow} before /usr/local/bin, so pip may be a virtualenv's or conda's`;
  if (env.has("BASH_ENV")) return "BASH_ENV makes the shell source a file that may activate an environment";
  const shell = run.context.shell ?? [];
  if (shell.slice(1).some((a) => a === "--login" || /^-[a-z]*[li]/.test(a)))
    return "the SHELL is a login or interactive shell, whose profile may activate an environment";
  const words = p.command.words;
  const own = [...p.command.assigns.map((a) => `${a.name}=`), ...words.slice(0, p.sub).map((w) => w.value ?? w.source)];
  const assigned = own.find((w) => ENV_ASSIGN.test(w));
  if (assigned) return `the call sets ${assigned.split("=")[0]}, so pip may install into another environment`;
  for (const c of commandsInOrder(run.script)) {
    if (c.end > p.command.start) break;
    if (activation(c))
      return `\`${run.script.source.slice(c.start, c.end)}\` runs before pip and may activate a virtualenv or conda environment`;
    const setsEnv =
      c.assigns.some((a) => ENV_ASSIGN.test(`${a.name}=`)) ||
      (/^(export|declare|typeset|readonly|local|unset)$/.test(c.name ?? "") &&
        c.words
          .slice(1)
          .some((w) => ENV_ASSIGN.test(w.value ?? w.source) || /^(PATH|VIRTUAL_ENV|CONDA_\w+)$/.test(w.value ?? "")));
    if (setsEnv) return `\`${run.script.source.slice(c.start, c.end)}\` changes PATH or the environment before pip`;
  }
  return null;
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

Also refused when the \`pip\` the RUN finds may be a virtualenv's or a conda
environment's, because \`uv pip install --system\` ignores virtual
environments (uv docs, "Using arbitrary Python environments") and would put
the packages in \`/usr/local\` where the environment's python never looks:
\`VIRTUAL_ENV\`, \`CONDA_PREFIX\` or \`CONDA_DEFAULT_ENV\` set (ENV or ARG, in
the stage or a stage it builds on, or on the call); a PATH (ENV values
expanded in order) that searches any directory other than \`/usr/local/sbin\`
before \`/usr/local/bin\` (\`/opt/venv/bin\`, \`/opt/conda/bin\`, \`$HOME/.local/bin\`…);
a command earlier in the RUN that may activate one (\`source\`/\`.\` of any
file, \`eval\`, \`activate\`, \`conda|mamba activate\`, \`workon\`, \`pyenv
activate|shell|local|global\`) or that sets or exports PATH/\`VIRTUAL_ENV\`/\`CONDA_*\`;
\`BASH_ENV\`; a login or interactive \`SHELL\`. dfopt doesn't rewrite these to
\`--python <venv>/bin/python\`: proving which environment the \`pip\` on PATH
belongs to needs the venv's creation and every PATH entry in view.

Refused too under a non-root \`USER\` (the stage's, or the one it inherits
from the stage it builds on): pip there can't write the image's
site-packages and falls back to a user install ("Defaulting to user
installation because normal site-packages is not writeable"), while
\`uv pip install --system\` fails with permission denied, as with \`--user\`.

## References
- guide 001 (uv for faster dependency resolution)
- uv in Docker: https://docs.astral.sh/uv/guides/integration/docker/
- uv pip interface, compatibility with pip: https://docs.astral.sh/uv/pip/compatibility/
- uv and virtual environments (\`--system\` ignores them): https://docs.astral.sh/uv/pip/environments/
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
        const user = effectiveUser(file, run);
        if (!isRoot(user)) {
          skips.push({
            pass: id,
            at,
            reason: `left to pip: it runs as USER ${user}, where pip falls back to a user install and uv pip install --system fails with permission denied`,
          });
          continue;
        }
        const venv = virtualEnvironment(file, p);
        if (venv) {
          skips.push({
            pass: id,
            at,
            reason: `left to pip: ${venv}; uv pip install --system ignores virtual environments`,
          });
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
