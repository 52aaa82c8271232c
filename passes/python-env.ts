import type { InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import { allSimpleCommands } from "../src/shell-facts.js";
import { envPairs } from "../src/stage-facts.js";
import type { Change, Edit, Pass, PassResult } from "../src/types.js";
import { beforeChain, execArgsOf, insertLineAbove, shippedStages, stageChain } from "./lib/hygiene.js";
import { pipInstalls } from "./lib/pip-calls.js";
import { analysableRuns, type RunInfo } from "./lib/runs.js";

const id = "python-env";

/** Programs that start a Python interpreter (directly or embedded). */
const PYTHON_PROGRAM =
  /^(python[0-9.]*|pypy[0-9.]*|gunicorn|uvicorn|celery|flask|hypercorn|daphne|waitress-serve|streamlit|jupyter|jupyter-lab|uwsgi|django-admin|ipython)$/;
const SHELLS = /^(sh|bash|dash|ash)$/;

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function isPythonWord(word: string): boolean {
  const base = basename(word);
  return PYTHON_PROGRAM.test(base) || /\.py$/.test(base);
}

/** True when a CMD/ENTRYPOINT starts Python: `python app.py`, `["gunicorn", …]`, `sh -c "python …"`. */
export function startsPython(file: ParsedDockerfile, node: InstructionNode): boolean {
  const args = execArgsOf(file, node);
  if (args) {
    const c = args.indexOf("-c");
    if (args[0] && SHELLS.test(basename(args[0])) && c > 0 && args[c + 1]) {
      return /(^|[\s;&|/])(python[0-9.]*|gunicorn|uvicorn|celery|flask|hypercorn|daphne|uwsgi)(\s|$)/.test(
        args[c + 1]!,
      );
    }
    // `["tini", "--", "python", …]`, `["/venv/bin/gunicorn", …]`: look at the first few words.
    return args.slice(0, 4).some((a) => !a.startsWith("-") && isPythonWord(a));
  }
  if (node.shell?.parse.ok) {
    for (const c of allSimpleCommands(node.shell.parse.script.statements)) {
      if (c.name !== null && isPythonWord(c.name)) return true;
      if (c.name === "exec" && c.words[1]?.value && isPythonWord(c.words[1].value)) return true;
    }
  }
  return false;
}

/** The CMD/ENTRYPOINT instructions in effect at the end of a stage (inherited ones included). */
function effectiveCommands(file: ParsedDockerfile, stage: Stage): InstructionNode[] {
  let cmd: InstructionNode | null = null;
  let entrypoint: InstructionNode | null = null;
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) {
      if (i.keyword === "CMD") cmd = i;
      if (i.keyword === "ENTRYPOINT") {
        entrypoint = i;
        // Docker resets CMD when ENTRYPOINT is set in a later stage or instruction.
        if (cmd && cmd.index < i.index) cmd = null;
      }
    }
  }
  return [entrypoint, cmd].filter((i): i is InstructionNode => i !== null);
}

/** Names set by ENV anywhere in the stage and the stages it builds on. */
function envNames(file: ParsedDockerfile, stage: Stage): Set<string> {
  const names = new Set<string>();
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) if (i.keyword === "ENV") for (const [n] of envPairs(i)) names.add(n);
  }
  return names;
}

export const pythonEnv: Pass = {
  meta: {
    id,
    title: "Python ENV defaults",
    summary: "ENV PYTHONUNBUFFERED=1 for Python services, PIP_DISABLE_PIP_VERSION_CHECK=1 where pip installs",
    defaultEnabled: true,
    doc: `## What it does
- In the final stage, when its CMD or ENTRYPOINT starts Python (\`python\`,
  \`gunicorn\`, \`uvicorn\`, \`celery\`, a \`.py\` script…), sets
  \`PYTHONUNBUFFERED=1\`.
- In every stage that runs \`pip install\`, sets
  \`PIP_DISABLE_PIP_VERSION_CHECK=1\` before the first one.
- When the opt-in pip-no-compile pass is enabled, sets
  \`PYTHONDONTWRITEBYTECODE=1\` with it in the stages it changes.

The variables are appended to an existing \`ENV\` of the stage that already
sets a \`PYTHON…\`/\`PIP_…\` variable (when it comes early enough), or added as
one new \`ENV\` line: before the first \`pip install\` RUN when a pip variable
is needed, else right before the CMD/ENTRYPOINT.

## Why
Without \`PYTHONUNBUFFERED\`, a Python service's stdout is block-buffered
when it is not a terminal: \`docker logs\` shows nothing until 4–8 KB have
accumulated, and the last lines are lost when the container is killed.
pip's version check queries PyPI on every install and prints a warning that
no one acts on in an image build. Guide 001 sets \`PYTHONUNBUFFERED=1\` and
\`PYTHONDONTWRITEBYTECODE=1\` in its Dockerfile.

## Example
\`\`\`dockerfile
FROM python:3.12-slim
RUN pip install -r requirements.txt
CMD ["gunicorn", "app:app"]
\`\`\`
becomes
\`\`\`dockerfile
FROM python:3.12-slim
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN pip install -r requirements.txt
ENV PYTHONUNBUFFERED=1
CMD ["gunicorn", "app:app"]
\`\`\`

## Safety
Safe: output is written sooner and pip skips a network query; nothing the
program computes changes. A variable already set anywhere in the stage or
the stages it builds on (either ENV form) is never added again.

## References
- guide 001 (\`ENV PYTHONDONTWRITEBYTECODE=1\`, \`ENV PYTHONUNBUFFERED=1\`), guide 000
- Python command line and environment, PYTHONUNBUFFERED: https://docs.python.org/3/using/cmdline.html#envvar-PYTHONUNBUFFERED
- pip configuration, environment variables: https://pip.pypa.io/en/stable/topics/configuration/
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const noCompile = options.enabledPasses.has("pip-no-compile");
    const uv = options.enabledPasses.has("uv-install");
    const shipped = shippedStages(file);
    const runs = analysableRuns(file).runs;
    const last = file.stages[file.stages.length - 1]!;
    for (const stage of file.stages) {
      const present = envNames(file, stage);
      // With uv-install on, its `uv pip install` stands for the pip install it replaced (same result in any order).
      const installsHere = (r: RunInfo) =>
        pipInstalls(r).length > 0 || (uv && /\buv pip install\b/.test(r.script.source));
      const firstPip = runs.find((r) => r.node.stage === stage.index && installsHere(r))?.node ?? null;
      const early: string[] = [];
      if (firstPip) {
        if (noCompile && shipped.has(stage.index) && !present.has("PYTHONDONTWRITEBYTECODE")) {
          early.push("PYTHONDONTWRITEBYTECODE=1");
        }
        if (!present.has("PIP_DISABLE_PIP_VERSION_CHECK")) early.push("PIP_DISABLE_PIP_VERSION_CHECK=1");
      }
      const late: string[] = [];
      if (
        stage === last &&
        !present.has("PYTHONUNBUFFERED") &&
        effectiveCommands(file, stage).some((i) => startsPython(file, i))
      ) {
        late.push("PYTHONUNBUFFERED=1");
      }
      if (early.length === 0 && late.length === 0) continue;
      const vars = [...early, ...late];
      // Never between two RUNs chain-runs joins: before the chain's first RUN.
      const deadline = early.length > 0 && firstPip ? beforeChain(file, firstPip, options) : null;
      const edit = envEdit(file, stage, deadline, vars);
      if (!edit) continue;
      changes.push({
        pass: id,
        edits: [edit],
        reason: `set ${vars.map((v) => v.split("=")[0]).join(", ")}: ${describe(vars)}`,
        safety: "safe",
      });
    }
    return { changes, skips: [] };
  },
};

function describe(vars: string[]): string {
  const why: string[] = [];
  if (vars.some((v) => v.startsWith("PYTHONUNBUFFERED"))) why.push("the service's output reaches docker logs at once");
  if (vars.some((v) => v.startsWith("PIP_DISABLE"))) why.push("pip skips its version check against PyPI");
  if (vars.some((v) => v.startsWith("PYTHONDONTWRITEBYTECODE"))) why.push("Python writes no .pyc files");
  return why.join("; ");
}

/**
 * Append to an early `ENV` that already sets Python/pip variables, or insert
 * a new `ENV` line before `deadline` (first pip RUN) or the CMD/ENTRYPOINT.
 */
function envEdit(file: ParsedDockerfile, stage: Stage, deadline: InstructionNode | null, vars: string[]): Edit | null {
  const candidates = stage.instructions.filter(
    (i) =>
      i.keyword === "ENV" &&
      (deadline === null || i.index < deadline.index) &&
      i.args.length > 0 &&
      i.args.every((a) => a.value.includes("=")) &&
      i.args.some((a) => /^(PYTHON|PIP_)/.test(a.value)),
  );
  const env = candidates[0];
  if (env) {
    const firstLine = file.lines.lineAt(env.start);
    const lastLine = file.lines.lineAt(env.end);
    if (firstLine === lastLine) return { start: env.end, end: env.end, newText: ` ${vars.join(" ")}` };
    const text = file.lines.lineText(lastLine);
    const indent = text.slice(0, text.length - text.trimStart().length);
    const sep = `${file.escapeChar}${file.eol}${indent}`;
    return { start: env.end, end: env.end, newText: vars.map((v) => ` ${sep}${v}`).join("") };
  }
  const line = `ENV ${vars.join(" ")}`;
  const before = deadline ?? stage.instructions.find((i) => i.keyword === "CMD" || i.keyword === "ENTRYPOINT") ?? null;
  if (before) return insertLineAbove(file, before, line);
  const tail = stage.instructions[stage.instructions.length - 1]!;
  return { start: tail.end, end: tail.end, newText: `${file.eol}${line}` };
}
