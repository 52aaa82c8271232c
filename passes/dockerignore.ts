import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import type { BuildContext, ContextFileWrite, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { commandsInOrder, execArgsOf, runsOpaqueScript } from "./lib/hygiene.js";
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

/**
 * Context paths the build reads, as written: local sources of every COPY/ADD
 * (not `--from`), and the sources of `RUN --mount=type=bind` without `from=`
 * (BuildKit binds the context root when `source=` is absent, and `type`
 * defaults to bind).
 */
function copySources(file: ParsedDockerfile): string[] {
  const out: string[] = [];
  for (const node of file.instructions) {
    if (node.keyword === "RUN") {
      for (const flag of node.flags) {
        if (flag.name !== "mount") continue;
        const type = flag.options.get("type") ?? "bind";
        if (type !== "bind" || flag.options.has("from")) continue;
        out.push(flag.options.get("source") ?? flag.options.get("src") ?? ".");
      }
      continue;
    }
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

/**
 * Build tools that may read the project's git metadata when the whole context
 * is in the image: Makefiles and scripts embed `git describe`/`rev-parse`, Go
 * stamps VCS info into binaries, gemspecs run `git ls-files`, Maven's
 * git-commit-id plugin fails without `.git`, npm/yarn lifecycle scripts
 * (`prepare: husky install`) call git, .NET SourceLink reads it…
 */
const GIT_READING_TOOLS = new Set([
  "make",
  "gmake",
  "cmake",
  "meson",
  "ninja",
  "autoreconf",
  "bazel",
  "bazelisk",
  "mvn",
  "mvnw",
  "gradle",
  "gradlew",
  "ant",
  "sbt",
  "lein",
  "clojure",
  "bundle",
  "bundler",
  "rake",
  "gem",
  "go",
  "cargo",
  "dotnet",
  "msbuild",
  "npm",
  "npx",
  "yarn",
  "pnpm",
  "bun",
  "node",
  "setup.py",
  "poetry",
  "uv",
  "hatch",
  "flit",
  "pdm",
  "tox",
  "nox",
  "versioneer",
  "mix",
  "rebar3",
  "stack",
  "cabal",
  "composer",
  "git",
]);

/** Build steps that may read the project's git metadata (setuptools-scm, versioneer, `git describe`, make…). */
function readsGit(file: ParsedDockerfile): boolean {
  for (const node of file.instructions) {
    if (node.keyword !== "RUN" || !node.shell?.parse.ok) continue;
    for (const c of commandsInOrder(node.shell.parse.script)) {
      const name = c.name === null ? null : c.name.slice(c.name.lastIndexOf("/") + 1);
      if (name !== null && GIT_READING_TOOLS.has(name)) return true;
      if (runsOpaqueScript(c, null)) return true;
      const call = packageManagerCall(c);
      if (
        call?.manager === "pip" &&
        call.subcommand === "install" &&
        call.args.some((a) => a === null || a === "." || a === "-e" || a.startsWith("./") || a === "-e." || a === "..")
      ) {
        return true;
      }
      if (call !== null && GIT_READING_TOOLS.has(call.manager)) return true;
      if (c.words.some((w) => w.value !== null && /(^|\/)setup\.py$/.test(w.value))) return true;
    }
  }
  // Unparsed RUNs and CMD/ENTRYPOINT: any mention (`git-core`, `repo.git`, `cd x && make`).
  const scripts = /\b(git|make|mvnw?|gradlew?|bundle|rake|npm|yarn|pnpm|hatch|flit|pdm|poetry)\b|setup\.py|\bgo\s+\w/;
  if (runScripts(file).some((r) => scripts.test(r.text))) return true;
  // Package lists kept in ENV/ARG (`ENV PACKAGES="make git"`), as whole words only (`GOPATH=/go` is no reader).
  const listed = /(^|[\s"'=])(git|git-core|make|maven|gradle)(?=$|[\s"'])/m;
  return file.instructions.some(
    (i) => (i.keyword === "ENV" || i.keyword === "ARG") && listed.test(file.text.slice(i.bodyStart, i.end)),
  );
}

/**
 * Whether the Dockerfile installs node packages in the image: `npm install|i|ci`,
 * `pnpm install|i`, `yarn`/`yarn install`/`yarn add` (any other `yarn <script>`,
 * such as `yarn start` or `yarn build`, runs a package.json script, not an install).
 */
function installsNodeModules(file: ParsedDockerfile): boolean {
  for (const node of file.instructions) {
    if (node.keyword !== "RUN") continue;
    if (!node.shell?.parse.ok) {
      // Global installs (`npm install -g yarn`) don't fill the project's node_modules.
      const text = file.text
        .slice(node.bodyStart, node.end)
        .replace(/\b(npm|pnpm|yarn|bun)\b[^;&|\n]*\s(-g|--global)\b[^;&|\n]*/g, "");
      if (/\b(npm|pnpm|bun)\s+(install|i|ci|add)\b|\byarn(\s+--?[\w=-]+)*\s*($|[;&|)]|install\b|add\b)/m.test(text)) {
        return true;
      }
      continue;
    }
    for (const c of commandsInOrder(node.shell.parse.script)) {
      const call = packageManagerCall(c);
      const bun = c.name !== null && c.name.slice(c.name.lastIndexOf("/") + 1) === "bun";
      const manager = bun ? "bun" : (call?.manager ?? null);
      if (manager !== "npm" && manager !== "yarn" && manager !== "pnpm" && manager !== "bun") continue;
      const args = call ? call.args : c.words.slice(1).map((w) => w.value);
      // A global install (`npm -g install x`) fills the global prefix, not the project's node_modules.
      if (args.some((a) => a === "-g" || a === "--global" || a === "--location=global")) continue;
      const sub = args.find((a) => a === null || !a.startsWith("-"));
      if (sub === null) return true; // `$CMD` could be anything: assume it installs
      if (manager === "yarn" && (sub === undefined || sub === "install" || sub === "add")) return true;
      if ((manager === "npm" || manager === "pnpm" || manager === "bun") && sub !== undefined) {
        if (["install", "i", "ci", "add", "isntall", "in"].includes(sub)) return true;
      }
    }
  }
  return false;
}

const GLOB = /[*?[]/;

/** Go's filepath.Match for one path component: `*`, `?`, `[a-z]`, `[^x]`, `\\` escapes. */
function componentMatches(pattern: string, name: string): boolean {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += pattern[++i]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else if (c === "[") {
      const close = pattern.indexOf("]", i + 2);
      if (close < 0) return false; // filepath.ErrBadPattern: BuildKit fails the COPY
      const body = pattern.slice(i + 1, close);
      re += `[${body.startsWith("^") ? "^" : ""}${body.replace(/^\^/, "").replace(/[\\\]]/g, "\\$&")}]`;
      i = close;
    } else re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
  }
  try {
    return new RegExp(`^${re}$`).test(name);
  } catch {
    return true; // a class we can't translate: assume it may match
  }
}

/**
 * Whether a COPY source pattern (`.env*`, `node_modules*`, `conf/x.py[co]`)
 * could match what the candidate ignores. A component that is only a star
 * (or two) copies a directory's contents like `COPY dir/` does, so it is left
 * to the per-candidate rules (as `COPY .` is); a top-level star followed by
 * more components (`COPY {star}/config.yml`) reaches into every top-level directory.
 */
function globReaches(source: string, cand: Candidate): boolean {
  const parts = clean(source).split("/");
  if (!parts.some((p) => GLOB.test(p))) return false;
  const anywhere = cand.pattern.startsWith("**/");
  const name = cand.pattern.replace(/^\*\*\//, "");
  const pure = (p: string) => p === "*" || p === "**";
  if (!anywhere) {
    const first = parts[0]!;
    if (!GLOB.test(first)) return false;
    if (pure(first)) return parts.length > 1;
    return componentMatches(first, name);
  }
  return parts.some((p) => GLOB.test(p) && !pure(p) && componentMatches(p, name));
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
      (dockerignoreMatches(cand.pattern, c) ||
        dockerignoreMatches(cand.pattern, c.replace(/[*?[].*$/, "x")) ||
        globReaches(c, cand))
    );
  });
  if (source) return `the Dockerfile copies ${source}`;
  const whole = copiesWholeContext(sources);
  const text = file.text;
  switch (cand.pattern) {
    case ".git":
      return whole && readsGit(file)
        ? "a build step may read the git metadata (git, make, go, npm/yarn, mvn, gradle, bundle, setup.py, pip install .)"
        : null;
    case ".venv":
    case "venv": {
      const mentioned = new RegExp(`(^|[\\s/"'=:])${cand.pattern.replace(".", "\\.")}(/|\\s|"|'|$)`, "m").test(text);
      const created = /-m\s+venv|virtualenv|uv\s+venv/.test(text);
      return mentioned && !created ? `the Dockerfile uses ${cand.pattern} without creating it` : null;
    }
    case "node_modules": {
      return whole && context.exists("node_modules") && !installsNodeModules(file)
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
No entry is proposed that hides something the build reads. The build's reads
are every COPY/ADD source and every \`RUN --mount=type=bind\` source without
\`from=\` (no \`source=\` binds the whole context). An entry is left out (and
the report says why) when it matches a source (\`COPY dist/app.whl\`) or a
source pattern could match it (\`COPY .env* ./\` keeps \`.env\`,
\`node_modules*\` keeps \`node_modules\`); or, when the whole context is
copied or bind-mounted: \`.git\` — a build step may read it (git anywhere, in
RUN or in an ENV/ARG package list; make, go, npm/yarn/pnpm, mvn, gradle,
bundle/rake/gem, cargo, dotnet, sbt, lein, poetry/uv/hatch/pdm,
\`setup.py\`, \`pip install .\`, or an opaque script); \`node_modules\` — it
exists and nothing installs it in the image (\`npm install|ci\`,
\`pnpm install\`, bare \`yarn\`/\`yarn install|add\`; \`yarn start\` or
\`yarn build\` run scripts, not installs); \`.env\` — it exists and \`COPY .\`
copies it today; \`dist\`/\`build\` — a RUN/CMD refers to it, or it exists and
\`COPY .\` copies it; \`venv\`/\`.venv\` — the Dockerfile uses it without
creating it. Allow-list \`.dockerignore\` files (\`*\` then \`!src\`) are left
alone.

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
