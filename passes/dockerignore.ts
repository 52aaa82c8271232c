import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import type { BuildContext, ContextFileWrite, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { commandsInOrder, execArgsOf } from "./lib/hygiene.js";
import { packageManagerCall } from "./lib/package-managers.js";

const id = "dockerignore";

export interface DockerignorePlan extends ContextFileWrite {
  readonly added: readonly string[];
  readonly omitted: readonly { readonly pattern: string; readonly reason: string }[];
}

interface Candidate {
  readonly pattern: string;
  /** Context path whose presence makes the entry matter in an existing .dockerignore (null: Python projects). */
  readonly probe: string | null;
  readonly comment: string;
}

const CANDIDATES: readonly Candidate[] = [
  { pattern: ".git", probe: ".git", comment: "version control" },
  { pattern: "**/__pycache__", probe: null, comment: "Python bytecode" },
  { pattern: "**/*.pyc", probe: null, comment: "Python bytecode" },
  { pattern: ".venv", probe: ".venv", comment: "local virtualenvs (built for the host, not the image)" },
  { pattern: "venv", probe: "venv", comment: "local virtualenvs (built for the host, not the image)" },
  { pattern: "node_modules", probe: "node_modules", comment: "host dependencies (installed in the image instead)" },
  { pattern: ".env", probe: ".env", comment: "local secrets" },
  { pattern: ".pytest_cache", probe: ".pytest_cache", comment: "test caches" },
  { pattern: "dist", probe: "dist", comment: "build output" },
  { pattern: "build", probe: "build", comment: "build output" },
  { pattern: "Dockerfile", probe: "Dockerfile", comment: "the Dockerfile itself" },
  { pattern: ".dockerignore", probe: ".dockerignore", comment: "the Dockerfile itself" },
];

/** Docker's .dockerignore matching (filepath.Match plus `**`), on a path and its parents. */
export function dockerignoreMatches(pattern: string, path: string): boolean {
  const p = clean(pattern);
  let re = "";
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "*" && p[i + 1] === "*") {
      // `**/` matches any number of directories, `**` at the end anything.
      if (p[i + 2] === "/") {
        re += "(?:.*/)?";
        i += 2;
      } else {
        re += ".*";
        i++;
      }
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  const regex = new RegExp(`^${re}$`);
  const parts = clean(path).split("/");
  for (let n = 1; n <= parts.length; n++) if (regex.test(parts.slice(0, n).join("/"))) return true;
  return false;
}

function clean(path: string): string {
  return path.trim().replace(/^\.\//, "").replace(/^\/+/, "").replace(/\/+$/, "");
}

/** Local sources of every COPY/ADD (not `--from`), as written. */
function copySources(file: ParsedDockerfile): string[] {
  const out: string[] = [];
  for (const node of file.instructions) {
    if (node.keyword !== "COPY" && node.keyword !== "ADD") continue;
    if (node.flags.some((f) => f.name === "from")) continue;
    const args = execArgsOf(file, node) ?? node.args.map((a) => a.value);
    out.push(...args.slice(0, -1).filter((s) => !/^[a-z]+:\/\//i.test(s)));
  }
  return out;
}

function copiesWholeContext(sources: readonly string[]): boolean {
  return sources.some((s) => ["", "*", "."].includes(clean(s)));
}

function runScripts(file: ParsedDockerfile): { node: InstructionNode; text: string }[] {
  return file.instructions
    .filter((i) => i.keyword === "RUN" || i.keyword === "CMD" || i.keyword === "ENTRYPOINT")
    .map((node) => ({ node, text: file.text.slice(node.bodyStart, node.end) }));
}

/** Build steps that read the project's git metadata (setuptools-scm, versioneer, `git describe`…). */
function readsGit(file: ParsedDockerfile): boolean {
  for (const node of file.instructions) {
    if (node.keyword !== "RUN" || !node.shell?.parse.ok) continue;
    for (const c of commandsInOrder(node.shell.parse.script)) {
      if (c.name === "git") return true;
      const call = packageManagerCall(c);
      if (
        call?.manager === "pip" &&
        call.subcommand === "install" &&
        call.args.some((a) => a === "." || a === "-e" || a?.startsWith("./") || a === "-e.")
      ) {
        return true;
      }
      if (call?.manager === "poetry" || call?.manager === "uv") return true;
      if (c.words.some((w) => w.value === "setup.py")) return true;
    }
  }
  return runScripts(file).some(({ text }) => /\bgit\b|setup\.py|hatch|flit|pdm/.test(text));
}

function isPythonProject(file: ParsedDockerfile): boolean {
  return /\b(python[0-9.]*|pip[0-9.]*|poetry|uv|gunicorn|uvicorn)\b/i.test(file.text);
}

/** Why a candidate must not be ignored, or null. */
function conflict(cand: Candidate, file: ParsedDockerfile, context: BuildContext, sources: string[]): string | null {
  const source = sources.find((s) => {
    const c = clean(s);
    return (
      c !== "" &&
      c !== "." &&
      c !== "*" &&
      (dockerignoreMatches(cand.pattern, c) || dockerignoreMatches(cand.pattern, c.replace(/[*?[].*$/, "x")))
    );
  });
  if (source) return `the Dockerfile copies ${source}`;
  const whole = copiesWholeContext(sources);
  const text = file.text;
  switch (cand.pattern) {
    case ".git":
      return whole && readsGit(file) ? "a build step may read the git metadata (git, setup.py, pip install .)" : null;
    case ".venv":
    case "venv": {
      const mentioned = new RegExp(`(^|[\\s/"'=:])${cand.pattern.replace(".", "\\.")}(/|\\s|"|'|$)`, "m").test(text);
      const created = /-m\s+venv|virtualenv|uv\s+venv/.test(text);
      return mentioned && !created ? `the Dockerfile uses ${cand.pattern} without creating it` : null;
    }
    case "node_modules": {
      const installs = /\b(npm\s+(install|i|ci)|yarn|pnpm\s+(install|i))\b/.test(text);
      return whole && context.exists("node_modules") && !installs
        ? "node_modules is copied and never installed in the image"
        : null;
    }
    case ".env":
      return whole && context.exists(".env")
        ? ".env is copied today and the app may read it (pass secrets at run time, then ignore it)"
        : null;
    case "dist":
    case "build": {
      if (
        new RegExp(`(^|[\\s/"'=:])${cand.pattern}(/|\\s|"|'|$)`, "m").test(
          runScripts(file)
            .map((r) => r.text)
            .join("\n"),
        )
      ) {
        return `the Dockerfile refers to ${cand.pattern}/`;
      }
      return whole && context.exists(cand.pattern)
        ? `${cand.pattern}/ exists and COPY . copies it; it may hold files the image needs`
        : null;
    }
    default:
      return null;
  }
}

/**
 * The .dockerignore dfopt proposes for this Dockerfile's build context: a
 * new file when there is none, or the missing entries that matter appended
 * to the existing one. Null when there is nothing to propose.
 */
export function planDockerignore(file: ParsedDockerfile, context: BuildContext): DockerignorePlan | null {
  const sources = copySources(file);
  const existing = context.dockerignore;
  const lines =
    existing === null
      ? []
      : existing
          .split(/\r?\n/)
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith("#"));
  // An allow-list (`*` then `!src`) already ignores everything else.
  if (lines.some((l) => clean(l) === "*" || clean(l) === "**")) return null;
  const added: string[] = [];
  const omitted: { pattern: string; reason: string }[] = [];
  for (const cand of CANDIDATES) {
    const bare = cand.pattern.replace(/^\*\*\//, "");
    const present = lines.some((l) => {
      if (l.startsWith("!")) return dockerignoreMatches(l.slice(1), bare);
      return (
        clean(l) === cand.pattern ||
        clean(l) === bare ||
        dockerignoreMatches(l, bare) ||
        dockerignoreMatches(l, `x/${bare}`.replace(/^x\//, ""))
      );
    });
    if (present) continue;
    if (existing !== null) {
      const matters =
        cand.probe === null
          ? isPythonProject(file)
          : cand.probe !== "Dockerfile" && cand.probe !== ".dockerignore" && context.exists(cand.probe);
      if (!matters) continue;
    } else if (cand.probe === null && !isPythonProject(file)) continue;
    const why = conflict(cand, file, context, sources);
    if (why) {
      omitted.push({ pattern: cand.pattern, reason: why });
      continue;
    }
    added.push(cand.pattern);
  }
  if (added.length === 0) return null;
  let newText: string;
  if (existing === null) {
    newText = `# Proposed by dfopt: keep these out of the build context.\n${added.join("\n")}\n`;
  } else {
    const eol = existing.includes("\r\n") ? "\r\n" : "\n";
    const base = existing === "" || existing.endsWith("\n") ? existing : `${existing}${eol}`;
    newText = `${base}# Added by dfopt${eol}${added.join(eol)}${eol}`;
  }
  return { path: ".dockerignore", oldText: existing, newText, added, omitted };
}

/** The proposed .dockerignore text, or null (the CLI writes it next to the Dockerfile's diff). */
export function proposeDockerignore(file: ParsedDockerfile, context: BuildContext): string | null {
  return planDockerignore(file, context)?.newText ?? null;
}

/** The proposal as a context file write (the `Pass.contextFiles` hook). */
export function dockerignoreFiles(file: ParsedDockerfile, options: PassOptions): ContextFileWrite[] {
  if (!options.buildContext) return [];
  const plan = planDockerignore(file, options.buildContext);
  return plan ? [{ path: plan.path, oldText: plan.oldText, newText: plan.newText }] : [];
}

export const dockerignore: Pass = {
  meta: {
    id,
    title: ".dockerignore proposal",
    summary: "Propose a .dockerignore (or its missing entries) that never hides what the Dockerfile copies",
    // Opt-in for now: in batch runs several Dockerfiles can share a context, and
    // concurrent proposals for one .dockerignore are not reconciled yet.
    defaultEnabled: false,
    doc: `## What it does
When the build context is known and has no \`.dockerignore\`, proposes one
with \`.git\`, \`**/__pycache__\`, \`**/*.pyc\` (Python projects), \`.venv\`,
\`venv\`, \`node_modules\`, \`.env\`, \`.pytest_cache\`, \`dist\`, \`build\`,
\`Dockerfile\` and \`.dockerignore\`. When one exists, proposes only the
missing entries that matter (the path exists in the context, or bytecode in
a Python project), appended at the end. The Dockerfile itself is never
changed: the proposal is a new file next to the diff.

## Why
Everything in the context is sent to the builder and \`COPY . .\` puts it in
the image: the git history, host virtualenvs and node_modules (built for the
host, not the image), local secrets, caches. Guide 000: "We use the
\`.dockerignore\` file for this. It marks project files to skip when building
the docker image."

## Example
A context with no \`.dockerignore\` and \`COPY . /app\` gets
\`\`\`
# Proposed by dfopt: keep these out of the build context.
.git
**/__pycache__
**/*.pyc
…
\`\`\`

## Safety
No pattern that matches a COPY/ADD source is proposed. An entry is left out
(and the report says why) when: \`.git\` — a build step may read it (git,
\`setup.py\`, \`pip install .\`, poetry, uv); \`venv\`/\`.venv\` — the Dockerfile
uses it without creating it; \`node_modules\` — it exists, is copied and
nothing installs it in the image; \`.env\` — it exists and \`COPY .\` copies
it today; \`dist\`/\`build\` — a RUN/CMD refers to it, or it exists and
\`COPY .\` copies it. Allow-list \`.dockerignore\` files (\`*\` then \`!src\`)
are left alone.

## References
- guide 000 ("How to remove extra project files from docker image")
- .dockerignore reference: https://docs.docker.com/build/concepts/context/#dockerignore-files
`,
  },
  run(file, options): PassResult {
    // The proposal itself is a context file (contextFiles); here we only say
    // which entries were left out and why.
    const skips: Skip[] = [];
    const context = options.buildContext;
    const plan = context ? planDockerignore(file, context) : null;
    if (plan && plan.omitted.length > 0) {
      skips.push({
        pass: id,
        at: file.stages[0]!.from.start,
        reason: `.dockerignore proposal leaves out ${plan.omitted.map((o) => `${o.pattern} (${o.reason})`).join(", ")}`,
      });
    }
    return { changes: [], skips };
  },
  contextFiles: dockerignoreFiles,
};
