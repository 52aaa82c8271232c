import type { InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import type { SimpleCommand } from "../src/shell.js";
import type { Change, Edit, Pass, PassResult, Skip } from "../src/types.js";
import { deleteInstruction, envBefore, execArgsOf, insertLineAbove, parentStage } from "./lib/hygiene.js";
import { packageManagerCall } from "./lib/package-managers.js";

const id = "poetry-export";
const STAGE = "poetry-export";

/** The RUN's commands when it is a plain `a && b && c` chain of simple commands. */
function chain(node: InstructionNode): SimpleCommand[] | null {
  if (node.keyword !== "RUN" || !node.shell?.parse.ok) return null;
  const statements = node.shell.parse.script.statements;
  if (statements.length !== 1 || statements[0]!.background) return null;
  const andOr = statements[0]!.andOr;
  if (andOr.ops.some((op) => op !== "&&")) return null;
  const out: SimpleCommand[] = [];
  for (const p of andOr.pipelines) {
    if (p.commands.length !== 1 || p.commands[0]!.kind !== "simple" || p.negated) return null;
    out.push(p.commands[0]!);
  }
  return out;
}

function values(c: SimpleCommand): (string | null)[] {
  return c.words.map((w) => w.value);
}

function isPoetryConfigNoVenv(c: SimpleCommand): boolean {
  const v = values(c);
  return (
    v[0] === "poetry" &&
    v[1] === "config" &&
    v.includes("virtualenvs.create") &&
    (v.includes("false") || v.includes("0"))
  );
}

/** `poetry install` options and what `poetry export` needs for the same package set, or why not. */
function exportOptions(c: SimpleCommand): { options: string[] } | { refuse: string } {
  const v = values(c).slice(2);
  if (v.some((x) => x === null)) return { refuse: "poetry install has words that expand at run time" };
  const words = v as string[];
  const options: string[] = [];
  let onlyMain = false;
  let noRoot = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w === "--only" && words[i + 1] === "main") {
      onlyMain = true;
      i++;
    } else if (w === "--only=main") onlyMain = true;
    else if (w === "--no-root") noRoot = true;
    else if (
      w === "--no-interaction" ||
      w === "-n" ||
      w === "--no-ansi" ||
      w === "-q" ||
      w === "--quiet" ||
      w === "--sync"
    )
      continue;
    else if (w === "--all-extras") options.push(w);
    else if ((w === "-E" || w === "--extras") && words[i + 1]) {
      options.push(w, words[i + 1]!);
      i++;
    } else if (w.startsWith("--extras=")) options.push(w);
    else return { refuse: `poetry install ${w} has no poetry export equivalent dfopt maps` };
  }
  if (!onlyMain) return { refuse: "only `poetry install --only main` selects groups poetry export reproduces exactly" };
  if (!noRoot)
    return { refuse: "poetry install without --no-root also installs the project itself, which pip -r would not" };
  return { options: ["--only", "main", ...options] };
}

export const poetryExport: Pass = {
  meta: {
    id,
    title: "poetry install → poetry export in a builder stage",
    summary: "Resolve with poetry in a builder stage (poetry export) and install with pip in the final image (unsafe)",
    defaultEnabled: true,
    doc: `## What it does
In the final stage, a RUN that runs \`poetry install --only main --no-root\`
(with \`virtualenvs.create false\`) is replaced by
\`COPY --from=${STAGE} /src/requirements.txt /tmp/requirements.txt\` and
\`RUN pip install -r /tmp/requirements.txt\`; a new \`${STAGE}\` stage, on the
same base image, installs the same poetry (plus \`poetry-plugin-export\`),
copies the same \`pyproject.toml\`/\`poetry.lock\` and runs
\`poetry export -f requirements.txt --output requirements.txt --without-hashes --only main\`.
The \`RUN pip install poetry\` of the final stage goes. When the file
already names a stage (or anything) \`${STAGE}\`, the new stage is
\`${STAGE}-2\` (or the next free number).

## Why
Poetry and its ~40 dependencies are only needed to read the lock file; in
the final image they are dead weight and attack surface. Guide 003: "I'd
rather just … output to requirements.txt for production", installing with
\`poetry export -o requirements.txt && pip install -r requirements.txt\`.

## Example
\`\`\`dockerfile
FROM python:3.12-slim
ENV POETRY_VIRTUALENVS_CREATE=false
RUN pip install poetry==1.8.3
COPY pyproject.toml poetry.lock ./
RUN poetry install --only main --no-root
\`\`\`
becomes
\`\`\`dockerfile
FROM python:3.12-slim AS ${STAGE}
WORKDIR /src
RUN pip install poetry==1.8.3 poetry-plugin-export
COPY pyproject.toml poetry.lock ./
RUN poetry export -f requirements.txt --output requirements.txt --without-hashes --only main

FROM python:3.12-slim
ENV POETRY_VIRTUALENVS_CREATE=false
COPY pyproject.toml poetry.lock ./
COPY --from=${STAGE} /src/requirements.txt /tmp/requirements.txt
RUN pip install -r /tmp/requirements.txt
\`\`\`

## Safety
**Unsafe**, always: pip installs the exported pins without poetry's
installer (no hashes are checked, since \`--without-hashes\`; markers are
evaluated by pip), and nothing in the image can run \`poetry\` any more.
Refused unless: the stage sets \`virtualenvs.create false\` (else poetry
installs into a virtualenv the rest of the Dockerfile relies on), poetry
comes from a \`RUN pip install poetry…\` of its own, \`pyproject.toml\` is
copied by a COPY that names it, the install is \`--only main --no-root\`
(other group selections or installing the root project change what pip
would install), and no later instruction uses \`poetry\`.

## References
- guide 003 (poetry export to requirements.txt for production)
- poetry-plugin-export: https://github.com/python-poetry/poetry-plugin-export
`,
  },
  run(file: ParsedDockerfile): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const stage = file.stages[file.stages.length - 1]!;
    const result = rewrite(file, stage);
    if (result && "skip" in result) skips.push({ pass: id, at: result.at, reason: result.skip });
    else if (result) changes.push(result);
    return { changes, skips };
  },
};

/**
 * \`poetry-export\`, or \`poetry-export-2\`, \`-3\`… when a stage already has
 * that name (stage names are case-insensitive) or the file mentions it
 * anywhere (a \`COPY --from=\` of an image by that name would start naming
 * the new stage).
 */
export function freeStageName(file: ParsedDockerfile): string {
  const text = file.text.toLowerCase();
  for (let n = 1; ; n++) {
    const name = n === 1 ? STAGE : `${STAGE}-${n}`;
    if (!file.stages.some((s) => s.name?.toLowerCase() === name) && !text.includes(name)) return name;
  }
}

function rewrite(file: ParsedDockerfile, stage: Stage): Change | { skip: string; at: number } | null {
  let installRun: InstructionNode | null = null;
  let installCmd: SimpleCommand | null = null;
  for (const node of stage.instructions) {
    const cmds = chain(node);
    const found = cmds?.find((c) => c.name === "poetry" && c.words[1]?.value === "install");
    if (found) {
      installRun = node;
      installCmd = found;
      break;
    }
    if (node.keyword === "RUN" && /\bpoetry\s+install\b/.test(file.text.slice(node.start, node.end))) {
      return { skip: "poetry install is not in a plain && chain of a RUN", at: node.start };
    }
  }
  if (!installRun || !installCmd) return null;
  const at = installRun.start;
  if (parentStage(file, stage) || stage.image.includes("$")) {
    return { skip: "the final stage's base is not a plain image", at };
  }
  const cmds = chain(installRun)!;
  if (!cmds.every((c) => c === installCmd || isPoetryConfigNoVenv(c))) {
    return { skip: "the RUN does more than configure poetry and install", at };
  }
  const env = envBefore(file, installRun);
  const noVenv =
    /^(false|0)$/i.test(env.get("POETRY_VIRTUALENVS_CREATE") ?? "") ||
    cmds.some(isPoetryConfigNoVenv) ||
    stage.instructions.some((i) => i.index < installRun!.index && (chain(i) ?? []).some(isPoetryConfigNoVenv));
  if (!noVenv) return { skip: "poetry installs into its own virtualenv here (virtualenvs.create is not false)", at };
  const mapped = exportOptions(installCmd);
  if ("refuse" in mapped) return { skip: mapped.refuse, at };

  // poetry itself: a RUN that only pip-installs it.
  let poetryRun: InstructionNode | null = null;
  let poetrySpec: string[] = [];
  for (const node of stage.instructions) {
    if (node.index >= installRun.index) break;
    const c = chain(node);
    if (!c || c.length !== 1) continue;
    const call = packageManagerCall(c[0]!);
    if (call?.manager !== "pip" || call.subcommand !== "install") continue;
    const pkgs = c[0]!.words.slice(call.argsFrom).filter((w) => w.value !== "install");
    if (!pkgs.some((w) => /^poetry([<>=!~[].*)?$/.test(w.value ?? ""))) continue;
    if (pkgs.some((w) => w.value === null || (!w.value.startsWith("-") && !/^poetry([<>=!~[].*)?$/.test(w.value)))) {
      return { skip: "poetry is pip-installed together with other packages", at: node.start };
    }
    poetryRun = node;
    poetrySpec = pkgs.filter((w) => !w.value!.startsWith("-")).map((w) => w.source);
  }
  if (!poetryRun) return { skip: "poetry is not installed by a RUN pip install poetry of this stage", at };

  const copy = stage.instructions.find(
    (i) =>
      i.index < installRun!.index &&
      i.keyword === "COPY" &&
      i.flags.length === 0 &&
      (execArgsOf(file, i) ?? i.args.map((a) => a.value)).slice(0, -1).some((s) => /(^|\/)pyproject\.toml$/.test(s)),
  );
  if (!copy) return { skip: "pyproject.toml is not copied by a COPY that names it", at };
  const sources = (execArgsOf(file, copy) ?? copy.args.map((a) => a.value)).slice(0, -1);
  if (sources.some((s) => !/(^|\/)(pyproject\.toml|poetry\.lock\*?)$/.test(s) || s.includes("$"))) {
    return { skip: "the COPY of pyproject.toml brings other files too", at };
  }

  const later = stage.instructions.filter((i) => i.index > installRun!.index && i.index !== poetryRun!.index);
  const stillPoetry = [
    ...later,
    ...stage.instructions.filter((i) => i.index < installRun!.index && i.keyword === "RUN" && i !== poetryRun),
  ].find((i) => {
    if (!/\bpoetry\b/.test(file.text.slice(i.bodyStart, i.end))) return false;
    const c = chain(i);
    return !(c !== null && c.length > 0 && c.every(isPoetryConfigNoVenv));
  });
  if (stillPoetry) return { skip: `line ${stillPoetry.line} still uses poetry`, at };
  const configRuns = stage.instructions.filter(
    (i) =>
      i.keyword === "RUN" && i !== installRun && (chain(i)?.length ?? 0) > 0 && chain(i)!.every(isPoetryConfigNoVenv),
  );

  const name = freeStageName(file);
  const eol = file.eol;
  const imageArg = stage.from.args.find((a) => !a.value.startsWith("--"))!;
  const image = file.text.slice(imageArg.start, imageArg.end);
  const platform = stage.from.flags.map((f) => file.text.slice(f.start, f.end)).join(" ");
  const builder = [
    `FROM ${platform ? `${platform} ` : ""}${image} AS ${name}`,
    "WORKDIR /src",
    `RUN pip install ${[...poetrySpec, "poetry-plugin-export"].join(" ")}`,
    `COPY ${sources.join(" ")} ./`,
    `RUN poetry export -f requirements.txt --output requirements.txt --without-hashes ${mapped.options.join(" ")}`,
    "",
  ].join(eol);
  const flags = installRun.flags.map((f) => file.text.slice(f.start, f.end)).join(" ");
  const replacement = [
    `COPY --from=${name} /src/requirements.txt /tmp/requirements.txt`,
    `RUN ${flags ? `${flags} ` : ""}pip install -r /tmp/requirements.txt`,
  ].join(eol);
  const edits: Edit[] = [
    insertLineAbove(file, stage.from, builder),
    deleteInstruction(file, poetryRun),
    { start: installRun.start, end: installRun.end, newText: replacement },
    ...configRuns.map((r) => deleteInstruction(file, r)),
  ];
  return {
    pass: id,
    edits,
    reason:
      "poetry resolves in a builder stage (poetry export); the final image installs the exported pins with pip and carries no poetry",
    safety: "unsafe",
    unsafeBecause:
      "pip installs the exported pins without poetry's installer (no hash checks with --without-hashes), and nothing in the image can run poetry any more",
  };
}
