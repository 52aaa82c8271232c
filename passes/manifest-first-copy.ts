import path from "node:path";
import type { Flag, InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import { fileRangeOf } from "../src/logical.js";
import type { Command, Pipeline, ShellScript, SimpleCommand } from "../src/shell.js";
import { contextAt, homeOf, isPosixShell } from "../src/stage-facts.js";
import type { BuildContext, Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { dockerignoreMatcher, type DockerignoreMatcher } from "./lib/dockerignore.js";
import { CACHE_SPECS } from "./lib/cache-dirs.js";
import { cacheMode } from "./lib/cache-mode.js";
import { callUsesCache, toolCall } from "./lib/cache-mount-shell.js";
import {
  cacheIdOfTarget,
  classifyInstall,
  runContentCheck,
  WORKSPACE_FILES,
  type ContentCheck,
  type ManifestFile,
  type PackageDirReference,
  type ManifestInstall,
} from "./lib/manifests.js";
import { packageManagerCall } from "./lib/package-managers.js";

const id = "manifest-first-copy";

export const manifestFirstCopy: Pass = {
  meta: {
    id,
    title: "Copy dependency manifests before the sources",
    summary: "Copy requirements.txt/package.json/go.mod… and install dependencies before `COPY . .`",
    defaultEnabled: true,
    doc: `## What it does
When a stage copies its whole source tree (\`COPY . .\`, \`COPY . /app\`,
\`ADD . .\`, \`COPY src/ /app/\`) and only then installs dependencies, the
pass copies just the manifests the install reads, runs the install, and then
copies the rest:

| install | manifests copied first |
| --- | --- |
| \`pip install -r F\` (also \`-c\`, \`uv pip\`, \`pip wheel\`) | F, and the files F includes |
| \`pip install -f DIR\` (\`--find-links\`, \`--index-url file:///…\`) | DIR, when it is inside the copied tree |
| \`poetry install\` | pyproject.toml, poetry.lock, poetry.toml |
| \`uv sync\` | pyproject.toml, uv.lock, .python-version, uv.toml |
| \`pipenv install\`/\`sync\` | Pipfile, Pipfile.lock |
| \`npm ci\`/\`npm install\` | package.json, package-lock.json, npm-shrinkwrap.json, .npmrc |
| \`yarn [install]\` | package.json, yarn.lock, .yarnrc(.yml), .npmrc, .yarn/ |
| \`pnpm install\`/\`fetch\` | package.json, pnpm-lock.yaml, .npmrc, .pnpmfile.cjs |
| \`go mod download\`/\`verify\` | go.mod, go.sum |
| \`bundle install\` | Gemfile, Gemfile.lock, .bundle/ |
| \`composer install\` | composer.json, composer.lock, auth.json |

Paths are resolved like the shell does: \`-r requirements/prod.txt\`,
\`--requirement=…\`, WORKDIR, \`cd dir &&\` and absolute paths, mapped
back through the full COPY's source and destination.

Offline and air-gapped builds install from a wheelhouse in the context
(\`pip install --no-index --find-links vendor -r requirements.txt\`). Local
package locations are inputs of the install like the manifests: \`-f DIR\`,
\`--find-links=DIR\`, \`-f file:///app/vendor\`, \`--index-url\`/
\`--extra-index-url\` pointing at a local PEP 503 directory, PIP_FIND_LINKS /
PIP_INDEX_URL (UV_* for uv), and \`--find-links\`/\`--index-url\` lines in the
requirements files (a relative find-links path next to the file first, as
pip does). One inside the copied tree gets its own COPY, which copies the
directory's **contents** to the same place (\`COPY vendor/ vendor/\`); one
outside it (\`-f /wheels\` from an earlier step) or a remote URL needs
nothing. An install that names only a wheelhouse (\`pip install --no-index
-f vendor gunicorn\`) is handled the same way.

When the full COPY (a plain \`COPY\`, at most \`--chown\`) copies the
wheelhouse again right after the install anyway, and the file may use
BuildKit (cache-mounts is on, or it has a \`RUN --mount\` already), the
wheelhouse is bind-mounted into the install instead of copied first
(\`RUN --mount=type=bind,source=vendor,target=/app/vendor pip install …\`):
the image then holds it once, not in two layers.

Installs that also need the project get a deps-only step before the COPY
and keep the original after it: \`poetry install\` → \`poetry install
--no-root\`, \`uv sync\` → \`uv sync --no-install-project\`. A RUN that
installs and then builds (\`npm ci && npm run build\`,
\`go mod download && go build\`, \`pip install -r r.txt && pip install -e .\`)
is split: the install commands move, the rest stays after the COPY (cache
mounts follow the commands that use them).

Either the full COPY moves down below the install (when everything between
them doesn't read the sources: ENV, USER, WORKDIR with an absolute
destination, source-free RUNs such as \`apt-get install\`) and past the
source-free RUNs right after it (\`RUN rm -rf /var/lib/apt/lists/*\`, so
chain-runs can merge them with the install in either order), or the install
moves up above it (when what's between only changes file modes, like
\`RUN chmod +x entrypoint.sh\`). Comments above a moved instruction move
with it.

## Why
Docker reuses a layer only while everything it depends on is unchanged. With
\`COPY . .\` first, any source edit invalidates the install layer and every
build re-downloads all dependencies. With the manifests copied first, the
install is cached until a manifest changes. ("Copy the requirements.txt file
only, before executing pip install": shared guide 004; guides 000–002 on
dependency caching.)

## Example
\`\`\`dockerfile
WORKDIR /app
COPY . .
RUN pip install -r requirements.txt
\`\`\`
becomes
\`\`\`dockerfile
WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY . .
\`\`\`

## Safety
The new COPY must name only files that exist, and the install must read
nothing else from the sources. With the build context known (the CLI passes
the Dockerfile's directory), the pass reads \`.dockerignore\` with Docker's
own matching rules and the manifests themselves, and refuses when:
- a manifest the command names is missing from the context or excluded by
  .dockerignore (the COPY would fail);
- a package directory the install reads (\`-f vendor\`, \`--index-url
  file:///app/simple\`, or one a requirements file names) is missing from
  the context or excluded by .dockerignore (\`COPY vendor/\` would fail;
  one that .dockerignore excludes but may partly re-include is refused too),
  is the whole copied tree (\`-f .\`), or holds it (\`-f /\`); a find-links
  path from a variable or \`~\` is refused, while an index URL from a
  variable (\`-i $INDEX_URL\`, nearly always a mirror) makes the change
  **unsafe**. A wheelhouse is copied as a directory unless the context shows
  a small text file (an HTML page of links, copied as a file);
- a manifest references other project files: nested \`-r\`/\`-c\` files are
  copied too, but local paths (\`-e .\`, \`./pkg\`, \`file:\`), package.json
  install/prepare scripts and workspaces, go.mod \`replace => ./dir\`,
  Gemfile \`gemspec\`/\`path:\`, poetry/uv/Pipfile path dependencies or
  local package sources (\`[tool.uv] find-links\`, \`file:\` source URLs),
  composer scripts or classmap autoloading all need the sources;
- the context holds something the install creates (\`node_modules\`,
  \`.venv\`, \`vendor\`, \`.bundle\`) that .dockerignore doesn't exclude: the
  full COPY would now overwrite the freshly installed packages;
- a workspace file exists (\`pnpm-workspace.yaml\`, \`go.work\`), or
  \`binding.gyp\` (npm would build it).

Lockfiles and configs are named only when they exist and aren't ignored.
When the context is unknown (stdin), only files the command always reads are
named, lockfiles use the \`COPY package.json package-lock.json* ./\` idiom
(a wildcard that matches nothing is accepted only because another source of
the same COPY matches; a COPY whose sources all match nothing fails), a
requirements file in a subdirectory brings its whole directory (so
\`-r base.txt\` siblings come along), and the change is **unsafe** because
the manifests' contents couldn't be checked (a wheelhouse named on the
command line is copied as a directory, unchecked).

The wheelhouse bind mount keeps the final file tree: the full COPY comes
right after the install (both strategies below, and a split's first half)
and writes the same directory to the same path with the same \`--chown\`
(measured: paths, owners, modes and sizes identical, with and without
\`--chown\`, nested directories included); BuildKit applies .dockerignore
to the mount's source as it does to COPY's; the mount is read-only and only
install outputs may be written in the copied tree. It is used only with the
build context known (the directory checked), an absolute destination, and
never with \`--chmod\`/\`--link\` or ADD (kept as a COPY). The mount goes first
after \`RUN\` (cache-mounts appends its own after the last flag), so the two
passes reach the same RUN in either order.

Moves: the full COPY moves below the install when what's between them can't
see the difference (LABEL/EXPOSE/CMD…, USER, ENV/ARG unless the COPY uses a
variable, WORKDIR when the COPY's destination is absolute, COPYs to other
directories, RUNs of source-free commands that write outside the copied
tree, and installs that read nothing in it and whose project directory
doesn't hold it, such as \`cd /tmp && npm install\` around a COPY into
/tmp/lib, which may depend on \`file:lib\`); otherwise the install moves above the COPY when what's between only
changes modes/owners of named source files (not manifests). Anything else
(a VOLUME, \`RUN ./configure\`, an ENV plus a source-reading RUN) is a skip
with the reason. The manifest COPY takes the full COPY's place and repeats
its \`--chown\`/\`--chmod\`/\`--link\`; its destination always names a
directory (trailing \`/\`, which a COPY with several sources requires).

Composition: a split replaces the whole RUN, so a pass editing that RUN in
the same round (cache-mounts) waits for the next round; each half keeps the
cache mounts its own commands use, in the order cache-mounts adds them. A
RUN merged by chain-runs is split back at the install, so both orders reach
the same file. The pass recognises its own output (a deps-only install
before the full COPY) and leaves it alone.

The pass never moves an install above a COPY or RUN it depends on: every
command of the moved RUN must be a recognised deps-only install, a
source-free command (system package managers, \`pip install <name>\`,
config commands, \`rm\`/\`mkdir\` outside the copied tree, \`cd\`), or, when
split, must commute with the commands left behind. Cargo is refused: even
\`cargo fetch\` needs \`src/main.rs\`/\`src/lib.rs\`. A full COPY into \`/\`
is refused, and so is one into the base image's WORKDIR when the stage has
no WORKDIR before it (\`FROM node\` + \`COPY . .\`): that WORKDIR is unknown
and often \`/\`, where global installs and configuration the other RUNs
write may be part of the copied tree. A relative subdirectory
(\`COPY . app/\`) under an unknown WORKDIR is still handled: its paths stay
symbolic, and any overlap with an absolute path counts as possible. Residual risk: if a lockfile in the context is out of date, some
installs (\`npm install\`, \`bundle install\`, \`uv sync\` without
\`--locked\`) rewrite it; after the change the full COPY puts the context's
copy back (the installed packages are the same).

## References
- Dockerfile best practices, "Leverage build cache": https://docs.docker.com/build/cache/
- .dockerignore syntax (moby/patternmatcher): https://docs.docker.com/build/concepts/context/#dockerignore-files
- COPY with wildcards: https://docs.docker.com/reference/dockerfile/#copy
- Shared guides 000, 001, 002, 004 (/work/shared/guides)
`,
  },
  run(file, options): PassResult {
    return new ManifestFirstCopy(file, options).run();
  },
};

// ---------------------------------------------------------------------------
// Paths: absolute POSIX paths, or paths under the base image's WORKDIR (not
// known from the Dockerfile), written with a prefix no real path has.

const BASE_WD = "/\u0000basewd";

function resolve(base: string, p: string): string {
  const joined = p.startsWith("/") ? p : `${base}/${p}`;
  const normal = path.posix.normalize(joined);
  return normal.length > 1 && normal.endsWith("/") ? normal.slice(0, -1) : normal;
}

/** A path for messages: under the base image's WORKDIR it is shown relative. */
function shown(p: string): string {
  return isUnknownBase(p) ? `./${p.slice(BASE_WD.length + 1)}` : p;
}

function isUnknownBase(p: string): boolean {
  return p === BASE_WD || p.startsWith(`${BASE_WD}/`);
}

/** `child` relative to `dir` ("" for itself), null when outside, undefined when it can't be told. */
function relativeInside(dir: string, child: string): string | null | undefined {
  if (isUnknownBase(dir) !== isUnknownBase(child)) return undefined;
  if (child === dir) return "";
  if (dir === "/") return child.slice(1);
  return child.startsWith(`${dir}/`) ? child.slice(dir.length + 1) : null;
}

/** Whether one path contains the other; undefined when it can't be told. */
function overlaps(a: string, b: string): boolean | undefined {
  const x = relativeInside(a, b);
  const y = relativeInside(b, a);
  if (x === undefined || y === undefined) return undefined;
  return x !== null || y !== null;
}

/** `$VAR` / `${VAR}` from ENV/ARG; null when a variable is unset, empty or uses modifiers. */
function expand(text: string, env: ReadonlyMap<string, string>): string | null {
  let failed = false;
  const out = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))|\$\{[^}]*\}/g, (m, a, b) => {
    const name = (a ?? b) as string | undefined;
    const value = name === undefined ? undefined : env.get(name);
    if (value === undefined || value === "" || value.includes("$")) failed = true;
    return value ?? m;
  });
  return failed ? null : out;
}

// ---------------------------------------------------------------------------
// Commands of a RUN, classified by what they need from the copied tree.

type ItemKind =
  /** Deps-only install: reads only manifests. */
  | "deps"
  /** Installs the project too; a deps-only variant runs first and the original stays. */
  | "variant"
  /** Reads nothing from the project (system packages, `pip install flask`, config). */
  | "free"
  /** Changes shell state (`cd`, `export`, `set`): goes with both halves of a split. */
  | "dual"
  /** Changes named source files without reading them (`chmod +x run.sh`): commutes with installs. */
  | "passable"
  /** Needs the sources, or unknown. */
  | "source";

interface Item {
  readonly pipeline: Pipeline;
  readonly kind: ItemKind;
  /** Working directory when the command runs; null after a dynamic `cd`. */
  readonly cwd: string | null;
  readonly install?: ManifestInstall;
  /** For `source`: why; `sourceInstall` marks installs that need the project (`pip install .`). */
  readonly why?: string;
  readonly sourceInstall?: boolean;
  /** Absolute paths a free command writes (rm, mkdir, redirects…). */
  readonly writes: readonly string[];
  /** Absolute paths an install creates (node_modules, .venv, --target…). */
  readonly outputs: readonly string[];
  /** Absolute targets of `passable` commands, and whether they recurse. */
  readonly targets?: readonly string[];
  readonly recursive?: boolean;
  readonly command: SimpleCommand | null;
}

interface RunAnalysis {
  readonly items: readonly Item[];
  /** All pipelines of the single statement, when the body is one plain `&&` chain (splittable). */
  readonly chain: readonly Pipeline[] | null;
}

const SYSTEM_MANAGERS = new Set(["apt-get", "apt", "apk", "yum", "dnf", "microdnf"]);
const DUAL = new Set(["cd", "export", "set", "umask", "unset"]);
const HARMLESS = new Set([
  "true",
  ":",
  "echo",
  "printf",
  "which",
  "type",
  "ldconfig",
  "update-ca-certificates",
  "sync",
]);
const VERSION_CHECKS = new Set([
  "node",
  "python",
  "python3",
  "ruby",
  "go",
  "java",
  "php",
  "npm",
  "yarn",
  "pnpm",
  "pip",
  "pip3",
  "poetry",
  "uv",
]);
/** Interpreters that run a script piped on stdin (`curl … | sh`). */
const STDIN_INTERPRETERS = /^(sh|bash|dash|ash|zsh|python(\d+(\.\d+)?)?|php)$/;
/** Instructions that only set image metadata: nothing runs, nothing reads files. */
const METADATA = new Set([
  "LABEL",
  "EXPOSE",
  "CMD",
  "ENTRYPOINT",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "MAINTAINER",
  "ONBUILD",
]);

function baseName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

// ---------------------------------------------------------------------------

interface CopyInfo {
  /** Context directory the COPY's source names ("" for the root). */
  readonly srcDir: string;
  /** The destination as written. */
  readonly destText: string;
  /** Resolved absolute destination directory. */
  readonly dest: string;
  /** Flags to repeat on the manifest COPY (`--chown`, `--chmod`, `--link`). */
  readonly flagsText: string;
}

interface Target {
  readonly run: InstructionNode;
  readonly analysis: RunAnalysis;
  readonly copy: InstructionNode;
  readonly copyInfo: CopyInfo;
}

interface ManifestCopy {
  /** Path relative to the full COPY's source directory. */
  readonly rel: string;
  /** COPY source as written (context path, maybe with a `*`). */
  readonly source: string;
  readonly dir: boolean;
}

/** A local package directory (wheelhouse, file index) to copy before the install. */
interface PackageDirCopy {
  /** Relative to the full COPY's source directory. */
  readonly rel: string;
  /** Named on the command line (or in ENV), or found in a requirements file (context known). */
  readonly origin: "command" | "requirements";
}

type Strategy = "move-copy" | "move-install";

class Refusal extends Error {}

/** What couldn't be checked, gathered into one explanation for `unsafeBecause`. */
class UnsafeNotes {
  /** Manifests whose references (nested -r, path deps, scripts) couldn't be read. */
  readonly unread: string[] = [];
  /** Optional configs that may exist but are only copied when the context shows them. */
  readonly configs: string[] = [];
  /** Files whose presence would make the install need the sources. */
  readonly absent: string[] = [];
  /** Install outputs the context might hold and the full COPY would copy over. */
  readonly shadowed: string[] = [];
  /** Package directories (`-f vendor`) copied first without knowing they're in the context. */
  readonly packageDirs: string[] = [];
  readonly other: string[] = [];

  text(copyLine: string): string | null {
    const list = (xs: readonly string[]) => [...new Set(xs)].join(", ");
    const parts: string[] = [];
    if (this.unread.length > 0) {
      const ways = [...new Set(this.unread.map(sourceNeedsOf))].join("; ");
      parts.push(
        `dfopt could not read ${list(this.unread)} to check that the install needs no other project files (${ways})`,
      );
    }
    if (this.absent.length > 0)
      parts.push(`${parts.length > 0 ? "it" : "dfopt"} could not check that there is no ${list(this.absent)}`);
    if (this.configs.length > 0) parts.push(`${list(this.configs)}, if present, would not be copied first`);
    if (this.packageDirs.length > 0) {
      parts.push(
        `${parts.length > 0 ? "it" : "dfopt"} could not check that the package directory ${list(this.packageDirs)} is in the context and not excluded by .dockerignore (COPY would fail)`,
      );
    }
    if (this.shadowed.length > 0) {
      parts.push(
        `${parts.length > 0 ? "it" : "dfopt"} could not check that the context has no ${list(this.shadowed)} for ${copyLine} to copy over the installed files`,
      );
    }
    const known = parts.length > 0 ? [`the build context is unknown (stdin), so ${parts.join("; ")}`] : [];
    const all = [...known, ...new Set(this.other)];
    return all.length > 0 ? all.join("; ") : null;
  }
}

class ManifestFirstCopy {
  private readonly changes: Change[] = [];
  private readonly skips: Skip[] = [];
  private readonly context: BuildContext | null;
  private readonly ignore: DockerignoreMatcher | null;
  private readonly commentLines: Set<number>;
  private readonly analyses = new Map<number, RunAnalysis | null>();
  /** The output may use `RUN --mount` (BuildKit): cache-mounts is on, or the file mounts already. */
  private readonly buildkit: boolean;

  constructor(
    private readonly file: ParsedDockerfile,
    options: PassOptions,
  ) {
    this.buildkit =
      cacheMode(options) === "mount" || file.instructions.some((i) => i.flags.some((f) => f.name === "mount"));
    this.context = options.buildContext;
    this.ignore = this.context?.dockerignore ? dockerignoreMatcher(this.context.dockerignore) : null;
    this.commentLines = new Set(file.comments.map((c) => c.line));
  }

  run(): PassResult {
    for (const stage of this.file.stages) this.stage(stage);
    return { changes: this.changes, skips: this.skips };
  }

  private stage(stage: Stage): void {
    const usedCopies = new Set<number>();
    // findFullCopy only looks at COPY/ADD from the context before the RUN:
    // RUNs before the stage's first one can't be moved after a manifest
    // COPY, so they aren't read (most RUNs, for the shell-tree walk it saves).
    let contextCopySeen = false;
    for (const node of stage.instructions) {
      if ((node.keyword === "COPY" || node.keyword === "ADD") && !node.flags.some((f) => f.name === "from")) {
        contextCopySeen = true;
      }
      if (node.keyword !== "RUN" || !contextCopySeen) continue;
      const analysis = this.analyzeRun(node);
      if (!analysis) continue;
      const relevant = analysis.items.some((i) => i.install !== undefined || i.sourceInstall);
      if (!relevant) continue;
      try {
        const found = this.findFullCopy(stage, node, analysis);
        if (!found || usedCopies.has(found.copy.index)) continue;
        const change = this.plan({ run: node, analysis, copy: found.copy, copyInfo: found.info }, stage);
        if (change) {
          usedCopies.add(found.copy.index);
          this.changes.push(change);
        }
      } catch (e) {
        if (!(e instanceof Refusal)) throw e;
        this.skips.push({ pass: id, at: node.start, reason: e.message });
      }
    }
  }

  // -------------------------------------------------------------------------
  // Reading a RUN

  private analyzeRun(node: InstructionNode): RunAnalysis | null {
    if (!this.analyses.has(node.index)) this.analyses.set(node.index, this.readRun(node));
    return this.analyses.get(node.index)!;
  }

  private readRun(node: InstructionNode): RunAnalysis | null {
    if (node.form !== "shell" || !node.shell?.parse.ok) return null;
    const ctx = contextAt(this.file, node);
    if (!isPosixShell(ctx)) return null;
    const home = homeOf(ctx.user);
    const script: ShellScript = node.shell.parse.script;
    const items: Item[] = [];
    let cwd: string | null = this.workdirOf(node);
    const env = new Map(ctx.env);
    for (const statement of script.statements) {
      for (const pipeline of statement.andOr.pipelines) {
        const item = this.classify(pipeline, cwd, env, home, statement.background);
        items.push(item);
        const c = item.command;
        if (!c) continue;
        if (c.name === "cd") cwd = this.cdTarget(c, cwd, home);
        if (c.name === "export") {
          for (const w of c.words.slice(1)) {
            const m = w.value?.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
            if (m) env.set(m[1]!, m[2]!);
          }
        }
        if (c.words.length === 0) for (const a of c.assigns) if (a.value !== null) env.set(a.name, a.value);
      }
    }
    const only = script.statements.length === 1 ? script.statements[0]! : null;
    const chain = only && !only.background && only.andOr.ops.every((op) => op === "&&") ? only.andOr.pipelines : null;
    return { items, chain };
  }

  /** WORKDIR in effect at `node`, resolved; null when it expands an unknown variable. */
  private workdirOf(node: InstructionNode): string | null {
    const stage = this.file.stages[node.stage];
    let wd = BASE_WD;
    for (const i of stage?.instructions ?? []) {
      if (i.index >= node.index) break;
      if (i.keyword !== "WORKDIR") continue;
      const value = expand(i.args.map((a) => a.value).join(" "), contextAt(this.file, i).env);
      if (value === null || value === "") return null;
      wd = resolve(wd, value);
    }
    return wd;
  }

  private cdTarget(command: SimpleCommand, cwd: string | null, home: string): string | null {
    const args = command.words.slice(1).map((w) => w.value);
    if (args.length === 0) return home;
    const operands = args.filter((a) => a === null || !a.startsWith("-") || a === "-");
    const target = operands[0];
    if (operands.length !== 1 || target === null || target === undefined || target === "-" || cwd === null) return null;
    if (target.startsWith("~")) return resolve(home, target.slice(1).replace(/^\//, "") || ".");
    if (target.startsWith("/")) return resolve("/", target);
    const result = resolve(cwd, target);
    // `cd ..` above the base image's unknown WORKDIR lands somewhere unknown.
    if (isUnknownBase(cwd) && !isUnknownBase(result)) return null;
    return result;
  }

  private classify(
    pipeline: Pipeline,
    cwd: string | null,
    stageEnv: ReadonlyMap<string, string>,
    home: string,
    background: boolean,
  ): Item {
    const make = (kind: ItemKind, command: SimpleCommand | null, extra: Partial<Item> = {}): Item => ({
      pipeline,
      kind,
      cwd,
      writes: [],
      outputs: [],
      command,
      ...extra,
    });
    const source = (why: string, command: SimpleCommand | null = null) => make("source", command, { why });
    if (background) return source("runs a command in the background");
    if (pipeline.commands.length > 1) {
      // `curl -fsSL https://… | sh`: a downloaded installer, reading nothing from the project.
      const [first, second] = pipeline.commands;
      const fetchToStdout =
        first?.kind === "simple" &&
        (first.name === "curl" || first.name === "wget") &&
        first.redirects.length === 0 &&
        (first.name === "curl"
          ? !first.words.some((w) => w.value === null || /^(-[a-zA-Z]*[oO]|--output|--remote-name)/.test(w.value))
          : first.words.some((w) => w.value === "-O-" || w.value === "-qO-" || w.value === "-qO" || w.value === "-O"));
      if (
        pipeline.commands.length === 2 &&
        fetchToStdout &&
        second?.kind === "simple" &&
        second.name !== null &&
        STDIN_INTERPRETERS.test(baseName(second.name)) &&
        second.redirects.every((r) => r.target === "/dev/null" || /^&?\d$/.test(r.target ?? ""))
      ) {
        return make("free", null);
      }
      return source("runs a pipeline");
    }
    const command: Command = pipeline.commands[0]!;
    if (command.kind !== "simple") return source(`runs a shell ${command.kind} block`);
    if (command.words.length === 0) return make("dual", command);
    const name = command.name;
    if (name === null) return source("runs a command named by a variable", command);
    const writes: string[] = [];
    for (const r of command.redirects) {
      if (r.op.startsWith("<<")) continue;
      if (r.target === null) return source("redirects to a path that expands a variable", command);
      if (/^&?-?\d*-?$/.test(r.target) || r.target.startsWith("/dev/")) continue;
      if (!r.op.includes(">")) return source(`reads ${r.target}`, command);
      if (cwd === null && !r.target.startsWith("/")) return source("writes a file in an unknown directory", command);
      writes.push(resolve(cwd ?? "/", r.target));
    }
    const env = new Map(stageEnv);
    for (const a of command.assigns) if (a.value !== null) env.set(a.name, a.value);
    const base = baseName(name);
    const args = command.words.slice(1).map((w) => w.value);

    if (DUAL.has(base)) return make("dual", command, { writes });
    if (HARMLESS.has(base)) return make("free", command, { writes });
    if (VERSION_CHECKS.has(base) && args.length === 1 && /^(-v|-V|--version|version)$/.test(args[0] ?? "")) {
      return make("free", command, { writes });
    }

    const install = classifyInstall(command, env);
    switch (install.kind) {
      case "deps":
      case "variant": {
        if (cwd === null) return source("runs in a directory that isn't known (after a dynamic cd)", command);
        const project = resolve(cwd, install.install.projectDir);
        const outputs = [
          ...install.install.outputs.map((o) => resolve(project, o)),
          ...install.install.absoluteOutputs.map((o) => (o.startsWith("~") ? resolve(home, o.slice(2)) : o)),
        ];
        return make(install.kind, command, { install: install.install, writes, outputs });
      }
      case "source":
        return make("source", command, { why: install.why, sourceInstall: true });
      case "free":
        if (install.outputs.length > 0 && cwd === null)
          return source("writes into a directory that isn't known", command);
        return make("free", command, { writes: [...writes, ...install.outputs.map((o) => resolve(cwd ?? "/", o))] });
      case "other":
        break;
    }

    const call = packageManagerCall(command);
    if (call && SYSTEM_MANAGERS.has(call.manager)) {
      // `apt-get install ./pkg.deb` reads the package from the copied tree.
      const local = call.args.find(
        (a) =>
          a !== null &&
          ((a.includes("/") && !a.startsWith("/") && !a.includes("://") && !a.includes("=")) ||
            (/\.(deb|rpm|apk)$/.test(a) && !a.startsWith("/"))),
      );
      if (local) return source(`installs ${local} from the copied files`, command);
      return make("free", command, { writes });
    }
    if (base === "rm" || base === "mkdir" || base === "touch" || base === "ln") {
      const operands = args.filter((a) => a === null || !a.startsWith("-"));
      if (operands.some((p) => p === null)) return source(`runs ${base} on a path that expands a variable`, command);
      for (const p of (base === "ln" ? operands.slice(-1) : operands) as string[]) {
        if (cwd === null && !p.startsWith("/")) return source(`runs ${base} in a directory that isn't known`, command);
        // `/var/lib/apt/lists/*` writes below the part before the wildcard.
        const literal = p.replace(/[*?[].*$/, "");
        writes.push(resolve(cwd ?? "/", literal.startsWith("~") ? `${home}${literal.slice(1)}` : literal || "."));
      }
      return make("free", command, { writes });
    }
    if (["useradd", "adduser", "groupadd", "addgroup", "usermod"].includes(base)) {
      return make("free", command, { writes: [...writes, "/etc", "/home"] });
    }
    if (base === "git" && args[0] === "config" && args.includes("--global")) return make("free", command, { writes });
    if (base === "chmod" || base === "chown" || base === "chgrp") {
      const operands = args.filter((a) => a === null || !a.startsWith("-"));
      const recursive = args.some((a) => a !== null && (/^-[a-zA-Z]*R/.test(a) || a === "--recursive"));
      const paths = operands.slice(1);
      if (paths.length === 0 || paths.some((p) => p === null) || cwd === null) {
        return source(`runs ${base} on paths that can't be resolved`, command);
      }
      const targets = (paths as string[]).map((p) => resolve(cwd, p.replace(/[*?[].*$/, "") || "."));
      return make("passable", command, { writes, targets, recursive });
    }
    return source(`runs \`${base}\`, which may read the copied files`, command);
  }

  // -------------------------------------------------------------------------
  // The full COPY the install depends on

  /** Absolute local package directories the install reads (`-f vendor`, `--index-url file:///…`). */
  private packageDirs(item: Item): string[] {
    const project = resolve(item.cwd!, item.install!.projectDir);
    return (item.install!.packageDirs ?? []).map((d) => resolve(project, d));
  }

  /** Everything an install reads from the image: its manifests' paths and package directories. */
  private inputPaths(item: Item): string[] {
    return [...this.manifestPaths(item, "/root").map((m) => m.path), ...this.packageDirs(item)];
  }

  private manifestPaths(item: Item, home: string): { path: string; manifest: ManifestFile }[] {
    const project = resolve(item.cwd!, item.install!.projectDir);
    return item.install!.manifests.map((m) => ({
      manifest: m,
      path: m.path.startsWith("~") ? resolve(home, m.path.slice(2)) : resolve(project, m.path),
    }));
  }

  /**
   * The nearest COPY/ADD before the RUN that copies a directory of the
   * context over the manifests the RUN reads; null when a COPY of the named
   * manifests comes first (already manifest-first) or there is none.
   */
  private findFullCopy(
    stage: Stage,
    run: InstructionNode,
    analysis: RunAnalysis,
  ): { copy: InstructionNode; info: CopyInfo } | null {
    const home = homeOf(contextAt(this.file, run).user);
    const required: string[] = [];
    const dirs: string[] = [];
    for (const item of analysis.items) {
      if (!item.install) continue;
      for (const m of this.manifestPaths(item, home)) if (m.manifest.required) required.push(m.path);
      dirs.push(...this.packageDirs(item));
    }
    const needsProject = analysis.items.filter((i) => i.sourceInstall && i.cwd !== null);
    const before = stage.instructions.filter((i) => i.index < run.index && i.keyword !== "FROM").reverse();
    for (const node of before) {
      if (node.keyword !== "COPY" && node.keyword !== "ADD") continue;
      if (node.flags.some((f) => f.name === "from")) continue;
      const info = this.copyInfo(node, required, dirs);
      if (info === "files") {
        // A COPY of the named manifests (or, for an install that names only a wheelhouse, of it) came first.
        if (this.copiesNamedFile(node, required.length > 0 ? required : dirs)) return null;
        continue;
      }
      if (info === null) continue;
      const coverage = [...required, ...dirs].map((p) => relativeInside(info.dest, p));
      if (coverage.some((c) => c === undefined)) {
        throw new Refusal(
          `can't tell whether ${this.copyText(node)} (line ${node.line}) copies the manifests: the base image's WORKDIR is unknown`,
        );
      }
      if (coverage.some((c) => c !== null)) return { copy: node, info };
      const projectInTree = needsProject.find((i) => typeof relativeInside(info.dest, i.cwd!) === "string");
      // After a deps-only install before this COPY (manifest-first already), installing the project here is expected.
      if (required.length === 0 && projectInTree && !this.depsInstalledBefore(stage, node)) {
        throw new Refusal(`the install after ${this.copyText(node)} needs the sources: ${projectInTree.why}`);
      }
    }
    return null;
  }

  private depsInstalledBefore(stage: Stage, copy: InstructionNode): boolean {
    return stage.instructions.some(
      (n) =>
        n.index < copy.index &&
        n.keyword === "RUN" &&
        (this.analyzeRun(n)?.items.some((i) => i.kind === "deps") ?? false),
    );
  }

  private copyText(node: InstructionNode): string {
    return this.file.text
      .slice(node.start, node.end)
      .split(/\r?\n|\r/)[0]!
      .replace(/\s*\\$/, "")
      .trim();
  }

  /**
   * Single-directory-source COPY/ADD from the context; "files" for COPYs of
   * named files (including a manifest copied to its own path, like
   * `ADD Gemfile /app/Gemfile`).
   */
  private copyInfo(
    node: InstructionNode,
    manifests: readonly string[],
    dirs: readonly string[] = [],
  ): CopyInfo | "files" | null {
    const values = node.execArgs ?? node.args.map((a) => a.value);
    if (values.length < 2) return null;
    if (values.some((v) => /["'\s]/.test(v) || v.includes("://"))) return null;
    const sources = values.slice(0, -1);
    const destText = values[values.length - 1]!;
    const src = sources[0]!;
    // `.`, `dir/`, or `dir` copied to a destination without a trailing slash.
    const dirLike =
      src === "." || src === "./" || src.endsWith("/") || (!/\.[^/]*$/.test(src) && !destText.endsWith("/"));
    if (sources.length !== 1 || /[*?[]/.test(src) || !dirLike) return "files";
    // `COPY vendor /app/vendor` copies a named input (a wheelhouse), not the tree.
    const manifestNames = new Set([...manifests, ...dirs].map((m) => path.posix.basename(m)));
    if (manifestNames.has(path.posix.basename(src.replace(/\/$/, "")))) return "files";
    if (src.includes("$") || src.split("/").includes("..")) return null;
    if (node.flags.some((f) => !["chown", "chmod", "link"].includes(f.name))) return null;
    const expanded = expand(destText, contextAt(this.file, node).env);
    const wd = this.workdirOf(node);
    if (expanded === null || wd === null) return null;
    if (manifests.includes(resolve(wd, expanded))) return "files";
    const srcDir = path.posix.normalize(src).replace(/\/$/, "").replace(/^\.$/, "");
    const flagsText = node.flags.map((f) => ` ${this.file.text.slice(f.start, f.end)}`).join("");
    return { srcDir, destText, dest: resolve(wd, expanded), flagsText };
  }

  /** Whether a COPY of named files (or of a wheelhouse directory) puts one of `paths` in place. */
  private copiesNamedFile(node: InstructionNode, paths: readonly string[]): boolean {
    const values = node.execArgs ?? node.args.map((a) => a.value);
    const sources = values.slice(0, -1);
    const destText = values[values.length - 1]!;
    const wd = this.workdirOf(node);
    const expanded = expand(destText, contextAt(this.file, node).env);
    if (wd === null || expanded === null) return false;
    const dest = resolve(wd, expanded);
    const intoDir =
      sources.length > 1 || destText.endsWith("/") || destText === "." || sources.some((s) => /[*?[]/.test(s));
    return sources.some((s) => {
      if (!intoDir) return paths.includes(dest);
      const name = s.replace(/\/$/, "").split("/").pop()!;
      // `COPY vendor/ ./vendor/` puts the directory's contents at the destination itself.
      if (paths.includes(dest) && name === path.posix.basename(dest)) return true;
      const pattern = new RegExp(
        `^${name
          .replace(/[.+^${}()|\\]/g, "\\$&")
          .replace(/\*/g, "[^/]*")
          .replace(/\?/g, "[^/]")}$`,
      );
      return paths.some((p) => path.posix.dirname(p) === dest && pattern.test(path.posix.basename(p)));
    });
  }

  // -------------------------------------------------------------------------
  // Planning the change

  private plan(target: Target, stage: Stage): Change | null {
    const { run, analysis, copy, copyInfo } = target;
    const dest = copyInfo.dest;
    const home = homeOf(contextAt(this.file, run).user);
    const copyLine = `${this.copyText(copy)} (line ${copy.line})`;

    // Which commands go before the COPY (d) and which stay after it (r).
    const kinds = analysis.items.map((item) =>
      item.kind === "variant" && this.alreadySplit(stage, copy, item) ? ("done" as const) : item.kind,
    );
    const lastInstall = kinds.reduce((last, k, i) => (k === "deps" || k === "variant" ? i : last), -1);
    const d: Item[] = [];
    const r: Item[] = [];
    let blocked: Item | null = null;
    analysis.items.forEach((item, i) => {
      const kind = kinds[i]!;
      if (blocked) r.push(item);
      else if (kind === "deps" || kind === "free") d.push(item);
      else if (kind === "variant" || (kind === "dual" && i < lastInstall)) (d.push(item), r.push(item));
      else if (kind === "done") (r.push(item), (blocked = item));
      else {
        r.push(item);
        if (kind === "source") blocked = item;
      }
    });
    const covered = d.filter(
      (i) =>
        (i.kind === "deps" || i.kind === "variant") &&
        (this.manifestPaths(i, home).some((m) => m.manifest.required && relativeInside(dest, m.path) !== null) ||
          this.packageDirs(i).some((p) => relativeInside(dest, p) !== null)),
    );
    if (covered.length === 0) {
      if (kinds.includes("done")) return null;
      const b = blocked as Item | null;
      if (b && kinds.some((k) => k === "deps" || k === "variant")) {
        throw new Refusal(`the install after ${copyLine} follows a command that ${this.why(b)}`);
      }
      const src = analysis.items.find((i) => i.sourceInstall);
      if (src) throw new Refusal(`the install after ${copyLine} needs the sources: ${src.why}`);
      return null;
    }
    if (run.flags.some((f) => f.name === "mount" && f.options.get("type") === "bind" && !f.options.has("from"))) {
      throw new Refusal("the install RUN bind-mounts the build context");
    }
    if (dest === "/")
      throw new Refusal(`${copyLine} copies the context into /, where it could overwrite installed files`);
    // No WORKDIR yet: `.` is the base image's, often / (node, ubuntu…), and
    // what the other RUNs write (global installs, /etc) may be in the tree.
    if (dest === BASE_WD)
      throw new Refusal(
        `${copyLine} copies the context into the base image's WORKDIR, which is unknown and may be /, where it could overwrite installed files`,
      );
    const split = r.some((i) => i.kind !== "dual");
    if (split && !analysis.chain) {
      const b = r.find((i) => i.kind !== "dual")!;
      throw new Refusal(`the install RUN also ${this.why(b)}, and isn't a plain && chain that can be split`);
    }

    // Local wheelhouses inside the copied tree are inputs: copied first with
    // the manifests. One outside it came from an earlier step and stays put.
    const packageDirs: PackageDirCopy[] = [];
    for (const item of d) {
      if (!item.install) continue;
      for (const abs of this.packageDirs(item)) {
        const rel = this.packageDirIn(abs, copyInfo, copyLine, `\`${this.commandText(run, item)}\``);
        if (rel !== null) packageDirs.push({ rel, origin: "command" });
      }
    }

    // What the moved commands write must stay out of the copied tree, except
    // what installs create there (checked against the context below).
    const unsafe = new UnsafeNotes();
    const outputsInTree = new Set<string>();
    for (const item of d) {
      for (const w of [...item.writes, ...item.outputs]) {
        const inside = relativeInside(dest, w);
        const contains = relativeInside(w, dest);
        if (inside === undefined || contains === undefined) {
          throw new Refusal(
            `can't tell whether ${shown(w)}, written by the install, is inside ${copyLine}'s destination`,
          );
        }
        if (contains !== null && inside === null)
          throw new Refusal(`the install writes ${shown(w)}, which holds ${copyLine}'s destination`);
        if (inside === null) continue;
        if (!item.outputs.includes(w) || inside === "") {
          throw new Refusal(
            `\`${this.commandText(run, item)}\` writes ${shown(w)}, inside the tree ${copyLine} copies`,
          );
        }
        outputsInTree.add(inside);
      }
    }
    for (const item of r) if (item.kind === "passable") this.checkPassable(item, d, dest, outputsInTree.size > 0);

    for (const item of d)
      for (const why of item.install?.uncertain ?? []) unsafe.other.push(`${why}, which could name a local directory`);
    const copies = this.manifestCopies(covered, copyInfo, home, unsafe, packageDirs, copyLine);
    if (copies === null || !copies.some((c) => !c.source.endsWith("*"))) return null;
    for (const out of outputsInTree) this.checkShadow(out, copyInfo, copyLine, unsafe);
    const middle = stage.instructions.filter((i) => i.index > copy.index && i.index < run.index);
    const strategy = this.chooseStrategy(middle, copy, copyInfo, d, outputsInTree.size > 0);

    const landing = strategy === "move-copy" && !split ? this.landingAfter(stage, run, copy, copyInfo) : run;
    const mounted = this.mountable(copies, target, packageDirs, outputsInTree);
    const copied = copies.filter((c) => !mounted.includes(c));
    const mounts = mounted.map((c) => `--mount=type=bind,source=${c.source},target=${resolve(copyInfo.dest, c.rel)}`);
    const edits = this.buildEdits(target, strategy, d, r, split, copied, landing, mounts);
    const names = [...new Set(copied.map((c) => (c.dir ? `${c.source}/` : c.source)))].join(" ");
    const installs = covered.map((i) => `\`${this.commandText(run, i)}\``).join(", ");
    const what = names === "" ? "" : `copy ${names} and `;
    const reason = split
      ? `${what}run ${installs} before ${this.copyText(copy)}, so editing the sources no longer re-runs the install; the rest of the RUN stays after the COPY`
      : `${what}install dependencies before ${this.copyText(copy)}, so editing the sources no longer re-runs ${installs}`;
    const mountNote =
      mounted.length > 0
        ? `; ${mounted.map((c) => `${c.source}/`).join(" ")} is bind-mounted into the install instead of copied, since ${this.copyText(copy)} puts the same files in the image right after it (no second copy in a layer)`
        : "";
    const unsafeBecause = unsafe.text(copyLine);
    return {
      pass: id,
      edits,
      reason: reason + mountNote,
      safety: unsafeBecause === null ? "safe" : "unsafe",
      ...(unsafeBecause === null ? {} : { unsafeBecause }),
    };
  }

  /**
   * Package directories to bind-mount into the install instead of copying
   * them first. The full COPY comes right after the install in the output
   * (both strategies, and a split's first half) and writes the same
   * directory to the same place with the same --chown, so the final file
   * tree is the same, without the directory's second copy in a layer.
   * BuildKit sends the mount's source through .dockerignore like COPY's,
   * and a bind mount is read-only: nothing moved above the COPY may write
   * there (checked: only install outputs may be in the copied tree).
   * Only with the build context known (the directory's presence checked),
   * for a plain COPY (no --chmod/--link, whose effect on directories the
   * mount doesn't reproduce), an absolute destination, and when the file
   * may use BuildKit mounts at all.
   */
  private mountable(
    copies: readonly ManifestCopy[],
    target: Target,
    packageDirs: readonly PackageDirCopy[],
    outputsInTree: ReadonlySet<string>,
  ): ManifestCopy[] {
    const { copy, copyInfo, run } = target;
    if (!this.buildkit || this.context === null || copy.keyword !== "COPY" || isUnknownBase(copyInfo.dest)) return [];
    if (copy.flags.some((f) => f.name !== "chown")) return [];
    const plain = (p: string) => /^[A-Za-z0-9_./@+-]+$/.test(p);
    return copies.filter(
      (c) =>
        c.dir &&
        packageDirs.some((p) => p.rel === c.rel) &&
        plain(c.source) &&
        plain(resolve(copyInfo.dest, c.rel)) &&
        ![...outputsInTree].some((o) => o === c.rel || o.startsWith(`${c.rel}/`) || c.rel.startsWith(`${o}/`)),
    );
  }

  private why(item: Item): string {
    return item.why ?? "needs the sources";
  }

  private commandText(run: InstructionNode, item: Item): string {
    const span = item.command ?? item.pipeline;
    const text = run.shell!.logical.text.slice(span.start, span.end).replace(/\s+/g, " ").trim();
    return item.kind === "variant" && item.install?.depsOnlySuffix ? text + item.install.depsOnlySuffix : text;
  }

  /** The deps-only form of a variant already runs before the COPY (this pass's own output). */
  private alreadySplit(stage: Stage, copy: InstructionNode, item: Item): boolean {
    const project = resolve(item.cwd!, item.install!.projectDir);
    for (const node of stage.instructions) {
      if (node.index >= copy.index) break;
      if (node.keyword !== "RUN") continue;
      for (const other of this.analyzeRun(node)?.items ?? []) {
        if (other.kind !== "deps" || other.install?.ecosystem !== item.install!.ecosystem || other.cwd === null)
          continue;
        if (resolve(other.cwd, other.install.projectDir) === project) return true;
      }
    }
    return false;
  }

  /** A chmod/chown that stays after the COPY must commute with the installs moved above it. */
  private checkPassable(item: Item, d: readonly Item[], dest: string, installCreatesInTree: boolean): void {
    const manifests = d.flatMap((i) => (i.install ? this.manifestPaths(i, "/root").map((m) => m.path) : []));
    const dirs = d.flatMap((i) => (i.install ? this.packageDirs(i) : []));
    const name = item.command?.name ?? "the command";
    for (const t of item.targets ?? []) {
      const inside = relativeInside(dest, t);
      if (inside === null || inside === undefined)
        throw new Refusal(`\`${name}\` changes ${shown(t)}, outside the copied tree`);
      if (manifests.includes(t)) throw new Refusal(`\`${name}\` changes the manifest ${shown(t)}`);
      if (dirs.some((p) => relativeInside(p, t) !== null))
        throw new Refusal(`\`${name}\` changes ${shown(t)}, which the install reads packages from`);
      if (item.recursive && (installCreatesInTree || [...manifests, ...dirs].some((m) => relativeInside(t, m)))) {
        throw new Refusal(`\`${name} -R ${shown(t)}\` would also change what the install reads or creates`);
      }
    }
  }

  /** The COPY sources to put before the install; null when that would copy everything the full COPY does. */
  private manifestCopies(
    covered: readonly Item[],
    info: CopyInfo,
    home: string,
    unsafe: UnsafeNotes,
    packageDirs: PackageDirCopy[],
    copyLine: string,
  ): ManifestCopy[] | null {
    const copies: ManifestCopy[] = [];
    const ctx = this.context;
    const add = (rel: string, opts: { dir?: boolean; glob?: boolean } = {}) => {
      const source = `${this.contextPath(info, rel)}${opts.glob ? "*" : ""}`;
      if (!copies.some((c) => c.source === source)) copies.push({ rel, source, dir: opts.dir ?? false });
    };
    /** A find-links path a requirements file names: next to the file when it exists there, else from the working directory. */
    const requirementsDir = (ref: PackageDirReference, fileRel: string, ctxPath: string, project: string): void => {
      let abs = resolve(project, ref.path);
      if (ref.nearFile && !ref.path.startsWith("/")) {
        const near = resolve(resolve(info.dest, path.posix.dirname(fileRel)), ref.path);
        const nearRel = relativeInside(info.dest, near);
        if (typeof nearRel !== "string")
          throw new Refusal(`${ctxPath} reads packages from ${ref.path}, outside the copied directory`);
        const nearCtx = this.contextPath(info, nearRel);
        if (this.fileSent(nearCtx)) abs = near;
        else if (this.maySend(nearCtx))
          throw new Refusal(`.dockerignore excludes ${nearCtx} but may re-include parts of it`);
      }
      const rel = this.packageDirIn(abs, info, copyLine, ctxPath);
      if (rel !== null && !packageDirs.some((p) => p.rel === rel)) packageDirs.push({ rel, origin: "requirements" });
    };
    const checkFile = (
      rel: string,
      check: ContentCheck,
      flags: ReadonlySet<string>,
      depth: number,
      project: string,
    ): void => {
      const ctxPath = this.contextPath(info, rel);
      if (!ctx) {
        unsafe.unread.push(ctxPath);
        return;
      }
      const text = ctx.readText(ctxPath);
      if (text === null) {
        unsafe.other.push(`dfopt could not read ${ctxPath} to check which files it references`);
        return;
      }
      const verdict = runContentCheck(check, text, ctxPath, flags);
      if (!verdict.ok) throw new Refusal(verdict.why);
      for (const ref of verdict.packageDirs ?? []) requirementsDir(ref, rel, ctxPath, project);
      for (const ref of verdict.references) {
        const refRel = path.posix.normalize(path.posix.join(path.posix.dirname(rel), ref));
        if (refRel.startsWith("..")) throw new Refusal(`${ctxPath} references ${ref}, outside the copied directory`);
        if (!this.fileSent(this.contextPath(info, refRel))) {
          if (check === "gemfile") continue;
          throw new Refusal(
            `${ctxPath} references ${ref}, which is missing from the build context or excluded by .dockerignore`,
          );
        }
        add(refRel);
        if (check === "requirements" && depth < 10) checkFile(refRel, "requirements", flags, depth + 1, project);
      }
    };
    for (const item of covered) {
      const install = item.install!;
      const project = resolve(item.cwd!, install.projectDir);
      const projectRel = relativeInside(info.dest, project);
      const inProject = (f: string) =>
        typeof projectRel === "string" ? this.contextPath(info, path.posix.join(projectRel || ".", f)) : null;
      for (const f of [...(WORKSPACE_FILES[install.ecosystem] ?? []), ...install.needsSourceIfExists]) {
        const p = inProject(f);
        if (p === null) continue;
        if (!ctx) unsafe.absent.push(p);
        else if (this.maySend(p)) {
          throw new Refusal(
            f === "binding.gyp"
              ? `${p} exists, so the install builds the project's native addon from the sources`
              : `${p} makes this a workspace, whose members' manifests are in the sources`,
          );
        }
      }
      for (const { manifest, path: abs } of this.manifestPaths(item, home)) {
        const rel = relativeInside(info.dest, abs);
        if (rel === null || rel === undefined || rel === "") continue;
        const ctxPath = this.contextPath(info, rel);
        if (!ctx) {
          const isRequirements = install.checks.some(
            (c) => c.check === "requirements" && resolve(project, c.path) === abs,
          );
          if (isRequirements && path.posix.dirname(rel) !== ".") {
            // Unseen requirements files often include siblings (`-r base.txt`): copy their directory.
            add(path.posix.dirname(rel), { dir: true });
          } else if (isRequirements && info.srcDir !== "") {
            // The full COPY is already just the requirements' directory.
            return null;
          } else if (manifest.required) add(rel);
          else if (manifest.globWhenUnknown) add(rel, { glob: true });
          else unsafe.configs.push(ctxPath);
          continue;
        }
        const exists = ctx.exists(ctxPath);
        if (manifest.required) {
          if (!exists) throw new Refusal(`${ctxPath} is not in the build context, so COPY ${ctxPath} would fail`);
          if (!this.fileSent(ctxPath))
            throw new Refusal(`.dockerignore excludes ${ctxPath}, so COPY ${ctxPath} would fail`);
          add(rel);
        } else if (manifest.dir && exists && this.maySend(ctxPath)) {
          if (!this.fileSent(ctxPath))
            throw new Refusal(`.dockerignore excludes ${ctxPath} but may re-include parts of it`);
          add(rel, { dir: true });
        } else if (!manifest.dir && this.fileSent(ctxPath)) {
          add(rel);
        }
      }
      for (const check of install.checks) {
        const abs = check.path.startsWith("/") ? check.path : resolve(project, check.path);
        const rel = relativeInside(info.dest, abs);
        if (typeof rel === "string" && rel !== "") checkFile(rel, check.check, install.flags, 0, project);
      }
    }
    for (const { rel, origin } of packageDirs) {
      const ctxPath = this.contextPath(info, rel);
      if (!ctx) {
        unsafe.packageDirs.push(ctxPath);
        // find-links may also name an HTML page of links.
        add(rel, { dir: !/\.html?$/i.test(rel) });
        continue;
      }
      const by = origin === "command" ? "the install" : "a requirements file";
      if (!ctx.exists(ctxPath))
        throw new Refusal(
          `${by} reads packages from ${ctxPath}, which is not in the build context, so COPY ${ctxPath}/ would fail`,
        );
      if (this.ignore?.ignores(ctxPath)) {
        throw new Refusal(
          this.ignore.mayReincludeUnder(ctxPath)
            ? `${by} reads packages from ${ctxPath}, which .dockerignore excludes but may re-include parts of`
            : `${by} reads packages from ${ctxPath}, which .dockerignore excludes, so COPY ${ctxPath}/ would fail`,
        );
      }
      // A directory, or a small HTML page of links (the only files find-links reads).
      add(rel, { dir: ctx.readText(ctxPath) === null });
    }
    // A wildcard that matches nothing is accepted only when another source of
    // the same COPY matches (`COPY package.json package-lock.json* ./`).
    return copies.filter((c) => {
      if (!c.source.endsWith("*")) return true;
      const dir = path.posix.dirname(c.rel);
      if (copies.some((o) => !o.dir && !o.source.endsWith("*") && path.posix.dirname(o.rel) === dir)) return true;
      unsafe.other.push(
        `${c.source.slice(0, -1)} is not copied first: no other manifest in its directory anchors the wildcard`,
      );
      return false;
    });
  }

  /**
   * Where a package directory the install reads lies in the copied tree:
   * its path relative to the full COPY's source, or null when it is outside
   * the tree (an earlier step provides it, and still does after the move).
   */
  private packageDirIn(abs: string, info: CopyInfo, copyLine: string, who: string): string | null {
    const rel = relativeInside(info.dest, abs);
    if (rel === undefined) {
      throw new Refusal(
        `can't tell whether ${shown(abs)}, which ${who} reads packages from, is inside ${copyLine}'s destination: the base image's WORKDIR is unknown`,
      );
    }
    if (rel === "") throw new Refusal(`${who} reads packages from ${shown(abs)}, the whole tree ${copyLine} provides`);
    if (rel === null && relativeInside(abs, info.dest) !== null)
      throw new Refusal(`${who} reads packages from ${shown(abs)}, which holds the tree ${copyLine} provides`);
    return rel;
  }

  private contextPath(info: CopyInfo, rel: string): string {
    const joined = info.srcDir === "" ? rel : `${info.srcDir}/${rel}`;
    return path.posix.normalize(joined);
  }

  /**
   * Whether a file reaches the builder, for files COPY will name: a file
   * .dockerignore excludes makes COPY fail, so "maybe" counts as no.
   */
  private fileSent(ctxPath: string): boolean {
    if (!this.context) return true;
    return this.context.exists(ctxPath) && !(this.ignore?.ignores(ctxPath) ?? false);
  }

  /**
   * Whether a path may reach the builder, for paths whose presence blocks
   * the change (node_modules, workspace files): "maybe" counts as yes.
   */
  private maySend(ctxPath: string): boolean {
    if (!this.context) return true;
    if (!this.context.exists(ctxPath)) return false;
    if (!this.ignore) return true;
    return !this.ignore.ignores(ctxPath) || this.ignore.mayReincludeUnder(ctxPath);
  }

  /** An install output the full COPY would overwrite when the context has it. */
  private checkShadow(rel: string, info: CopyInfo, copyLine: string, unsafe: UnsafeNotes): void {
    const ctxPath = this.contextPath(info, rel);
    if (!this.context) {
      unsafe.shadowed.push(ctxPath);
      return;
    }
    if (this.maySend(ctxPath)) {
      throw new Refusal(
        `the build context has ${ctxPath}, which ${copyLine} would copy over what the install creates; add it to .dockerignore`,
      );
    }
  }

  private chooseStrategy(
    middle: readonly InstructionNode[],
    copy: InstructionNode,
    info: CopyInfo,
    d: readonly Item[],
    installCreatesInTree: boolean,
  ): Strategy {
    const copyHasVariables = this.file.text.slice(copy.start, copy.end).includes("$");
    const copyBlocker = middle.map((m) => this.copyCannotPass(m, copyHasVariables, info)).find((w) => w !== null);
    if (!copyBlocker) return "move-copy";
    for (const m of middle) {
      const why = this.installCannotPass(m, info, d, installCreatesInTree);
      if (why === copyBlocker)
        throw new Refusal(`${copyBlocker}; the COPY can't move below it and the install can't move above it`);
      if (why)
        throw new Refusal(
          `${copyBlocker}, so the COPY can't move below it; the install can't move above it either: ${why}`,
        );
    }
    return "move-install";
  }

  /**
   * The instruction the moved full COPY goes after: the install RUN, or the
   * last of the RUNs right after it that don't see the copied tree
   * (\`RUN rm -rf /var/lib/apt/lists/*\`). Those RUNs stay cached across
   * source edits too, and chain-runs can merge them with the install either
   * before or after this pass runs, so both orders reach the same file.
   */
  private landingAfter(stage: Stage, run: InstructionNode, copy: InstructionNode, info: CopyInfo): InstructionNode {
    const copyHasVariables = this.file.text.slice(copy.start, copy.end).includes("$");
    let landing = run;
    for (const next of stage.instructions.filter((i) => i.index > run.index)) {
      if (next.keyword !== "RUN" || this.copyCannotPass(next, copyHasVariables, info) !== null) break;
      landing = next;
    }
    return landing;
  }

  /** Why the full COPY can't move below `m` (null when it can). */
  private copyCannotPass(m: InstructionNode, copyHasVariables: boolean, info: CopyInfo): string | null {
    const at = `${m.keyword} on line ${m.line}`;
    if (METADATA.has(m.keyword) || m.keyword === "USER" || m.keyword === "SHELL") return null;
    switch (m.keyword) {
      case "ENV":
      case "ARG":
        return copyHasVariables ? `${at} may change a variable the COPY uses` : null;
      case "WORKDIR":
        return info.destText.startsWith("/") && !info.destText.includes("$")
          ? null
          : `${at} changes where the COPY's relative destination points`;
      case "COPY":
      case "ADD": {
        const values = m.execArgs ?? m.args.map((a) => a.value);
        const destText = values[values.length - 1];
        const wd = this.workdirOf(m);
        const expanded = destText === undefined ? null : expand(destText, contextAt(this.file, m).env);
        if (wd === null || expanded === null) return `${at} copies to a destination that can't be resolved`;
        return overlaps(resolve(wd, expanded), info.dest) === false ? null : `${at} also writes into ${info.destText}`;
      }
      case "RUN": {
        const analysis = this.analyzeRun(m);
        if (!analysis) return `${at} can't be analysed`;
        for (const item of analysis.items) {
          if (item.kind === "source" || item.kind === "passable" || item.kind === "variant") {
            return `${at} ${item.kind === "passable" ? "changes copied files" : this.why(item)}`;
          }
          if (item.install && this.inputPaths(item).some((p) => overlaps(p, info.dest) !== false)) {
            return `${at} reads files the COPY provides`;
          }
          // A project around the copied tree may use it (`"dep": "file:sub"`, workspaces, `-e ./sub`).
          if (item.install && relativeInside(resolve(item.cwd!, item.install.projectDir), info.dest) !== null) {
            return `${at} installs a project whose directory holds what the COPY provides`;
          }
          const w = [...item.writes, ...item.outputs].find((p) => overlaps(p, info.dest) !== false);
          if (w) return `${at} writes ${shown(w)}, inside the copied tree`;
        }
        return null;
      }
      default:
        return `${at} must stay after the COPY`;
    }
  }

  /** Why the install can't move above `m` (null when it can). */
  private installCannotPass(
    m: InstructionNode,
    info: CopyInfo,
    d: readonly Item[],
    installCreatesInTree: boolean,
  ): string | null {
    const at = `${m.keyword} on line ${m.line}`;
    if (METADATA.has(m.keyword)) return null;
    if (m.keyword !== "RUN") return `${at} changes what the install sees`;
    const analysis = this.analyzeRun(m);
    if (!analysis) return `${at} can't be analysed`;
    for (const item of analysis.items) {
      if (item.kind === "dual" && item.command?.name === "cd") continue;
      if (item.kind !== "passable")
        return `${at} ${item.kind === "source" ? this.why(item) : "may change what the install uses"}`;
      try {
        this.checkPassable(item, d, info.dest, installCreatesInTree);
      } catch (e) {
        if (e instanceof Refusal) return e.message;
        throw e;
      }
    }
    return null;
  }

  // -------------------------------------------------------------------------
  // Edits

  private lineStartOf(offset: number): number {
    return this.file.lines.lineStart(this.file.lines.lineAt(offset));
  }

  /** Start of the comment lines directly above an instruction (they move with it). */
  private blockStart(node: InstructionNode): number {
    const prev = this.file.instructions[node.index - 1];
    let line = node.line; // 1-based line of the keyword
    while (line - 1 >= 1 && this.commentLines.has(line - 1)) {
      if (prev && this.file.lines.lineStart(line - 2) <= prev.end) break;
      line--;
    }
    return this.file.lines.lineStart(line - 1);
  }

  /** Offset just past the instruction's line break (its end at EOF). */
  private afterLine(node: InstructionNode): number {
    const t = this.file.text;
    if (t.startsWith("\r\n", node.end)) return node.end + 2;
    if (t[node.end] === "\n" || t[node.end] === "\r") return node.end + 1;
    return node.end;
  }

  private indentOf(node: InstructionNode): string {
    return this.file.text.slice(this.lineStartOf(node.start), node.start);
  }

  private manifestCopyText(copy: InstructionNode, info: CopyInfo, copies: readonly ManifestCopy[]): string {
    const indent = this.indentOf(copy);
    const groups = new Map<string, ManifestCopy[]>();
    for (const c of copies) {
      // A directory source copies its contents, so each gets its own COPY.
      const key = c.dir ? `dir:${c.rel}` : path.posix.dirname(c.rel);
      groups.set(key, [...(groups.get(key) ?? []), c]);
    }
    let out = "";
    for (const [key, group] of groups) {
      const sub = key.startsWith("dir:") ? key.slice(4) : key === "." ? "" : key;
      const single = group.length === 1 && !group[0]!.source.endsWith("*") && !group[0]!.dir;
      const sources = group.map((g) => (g.dir ? `${g.source}/` : g.source)).join(" ");
      out += `${indent}COPY${info.flagsText} ${sources} ${this.destFor(info.destText, sub, single)}${this.file.eol}`;
    }
    return out;
  }

  /**
   * Destination for manifests in `sub` (relative to the full COPY's source).
   * It always names a directory: a trailing `/` (required with several
   * sources, and so a missing directory is created rather than taken as the
   * file name), or `.` for a single file into the working directory.
   */
  private destFor(destText: string, sub: string, single: boolean): string {
    const dir = destText === "." || destText === "./" ? "" : destText.endsWith("/") ? destText : `${destText}/`;
    if (sub === "") return dir === "" ? (single ? "." : "./") : dir;
    return `${dir}${sub}/`;
  }

  private buildEdits(
    target: Target,
    strategy: Strategy,
    d: readonly Item[],
    r: readonly Item[],
    split: boolean,
    copies: readonly ManifestCopy[],
    landing: InstructionNode,
    mounts: readonly string[],
  ): Edit[] {
    const { run, copy, copyInfo } = target;
    const text = this.file.text;
    const eol = this.file.eol;
    const cm = this.manifestCopyText(copy, copyInfo, copies);
    const copyBlock = { start: this.blockStart(copy), end: this.afterLine(copy) };
    const runBlock = { start: this.blockStart(run), end: this.afterLine(run) };
    const withEol = (s: string) => (/[\r\n]$/.test(s) ? s : s + eol);
    const copyBlockText = withEol(text.slice(copyBlock.start, copyBlock.end));
    // Bind mounts go first after `RUN`: cache-mounts appends its mounts after
    // the last flag, so either order of the two passes gives the same RUN.
    const mountText = mounts.map((m) => ` ${m}`).join("");
    const afterKeyword = run.start + "RUN".length;
    const edits: Edit[] = [];
    if (strategy === "move-copy") edits.push({ start: copyBlock.start, end: copyBlock.end, newText: cm });
    if (!split) {
      if (mountText !== "" && strategy === "move-copy") {
        edits.push({ start: afterKeyword, end: afterKeyword, newText: mountText });
      }
      if (strategy === "move-copy") {
        const landingEnd = this.afterLine(landing);
        if (landingEnd === landing.end) {
          edits.push({ start: landing.end, end: landing.end, newText: eol + copyBlockText.replace(/\r?\n$/, "") });
        } else {
          edits.push({ start: landingEnd, end: landingEnd, newText: copyBlockText });
        }
      } else {
        const runText = text.slice(runBlock.start, afterKeyword) + mountText + text.slice(afterKeyword, runBlock.end);
        edits.push({
          start: copyBlock.start,
          end: copyBlock.start,
          newText: cm + withEol(runText),
        });
        edits.push(this.deleteBlock(runBlock, run));
      }
      return edits;
    }
    const prefix = this.prefixRun(run, d, mountText);
    if (strategy === "move-copy") {
      const at = this.lineStartOf(run.start);
      edits.push({
        start: at,
        end: at,
        newText: `${this.indentOf(run)}${prefix}${eol}${copyBlockText}${this.indentOf(run)}`,
      });
      edits.push({ start: at, end: run.start, newText: "" });
    } else {
      edits.push({
        start: copyBlock.start,
        end: copyBlock.start,
        newText: `${cm}${this.indentOf(copy)}${prefix}${eol}`,
      });
    }
    // The RUN that stays is replaced as a whole (not edited in place), so a
    // pass editing the same RUN in this round conflicts and runs next round:
    // applied together, its edit would describe the RUN before the split.
    edits.push({ start: run.start, end: run.end, newText: this.restRun(run, r) });
    return this.mergeAt(edits);
  }

  /** Insertions and a deletion at the same offset, merged into one edit (edits of a change may not overlap). */
  private mergeAt(edits: Edit[]): Edit[] {
    const out: Edit[] = [];
    for (const e of edits) {
      const same = out.find((o) => o.start === e.start && (o.start === o.end || e.start === e.end));
      if (same) {
        out.splice(out.indexOf(same), 1, {
          start: same.start,
          end: Math.max(same.end, e.end),
          newText: same.newText + e.newText,
        });
      } else out.push(e);
    }
    return out;
  }

  private deleteBlock(block: { start: number; end: number }, node: InstructionNode): Edit {
    let start = block.start;
    if (block.end === node.end && start > 0) {
      // The last line has no line break: drop the one before it instead.
      if (this.file.text[start - 1] === "\n") start--;
      if (this.file.text[start - 1] === "\r") start--;
    }
    return { start, end: block.end, newText: "" };
  }

  private fileSpan(run: InstructionNode, span: { start: number; end: number }): { start: number; end: number } {
    return fileRangeOf(run.shell!.logical, span.start, span.end);
  }

  /**
   * The RUN's flags for one half of a split: each cache mount stays with the
   * half whose commands use that cache, ordered by first use and then by the
   * cache table, the way cache-mounts adds them, so splitting before or after
   * cache-mounts runs gives the same RUNs. Other flags go to both halves.
   */
  private headFor(run: InstructionNode, items: readonly Item[]): string {
    const text = this.file.text;
    const chain = run.shell!.parse.ok ? run.shell!.parse.script.statements[0]!.andOr.pipelines : [];
    const bodyStart = this.fileSpan(run, chain[0]!).start;
    const calls = items.flatMap((i) => {
      const call = i.command ? toolCall(i.command) : null;
      return call ? [call] : [];
    });
    const other: Flag[] = [];
    const cached: { flag: Flag; firstUse: number; order: number }[] = [];
    for (const flag of run.flags) {
      const target = flag.options.get("target") ?? flag.options.get("dst") ?? flag.options.get("destination") ?? null;
      const cacheId =
        flag.name === "mount" && flag.options.get("type") === "cache" && target ? cacheIdOfTarget(target) : null;
      const spec = cacheId === null ? undefined : CACHE_SPECS.find((s) => s.id === cacheId);
      if (!spec) {
        other.push(flag);
        continue;
      }
      const uses = calls.filter((c) => callUsesCache(c, spec)).map((c) => c.command.start);
      if (uses.length > 0) cached.push({ flag, firstUse: Math.min(...uses), order: CACHE_SPECS.indexOf(spec) });
    }
    cached.sort((a, b) => a.firstUse - b.firstUse || a.order - b.order);
    const kept = [...other, ...cached.map((c) => c.flag)];
    if (kept.length === run.flags.length && kept.every((f, i) => f === run.flags[i]))
      return text.slice(run.start, bodyStart);
    const afterFlags = run.flags.length > 0 ? run.flags[run.flags.length - 1]!.end : run.start + "RUN".length;
    let gap = text.slice(afterFlags, bodyStart);
    // `RUN --mount=… \` + newline + command, without its mounts: no dangling `RUN \`.
    if (kept.length === 0) gap = gap.replace(/^[ \t]*\\[ \t]*(\r\n|\r|\n)[ \t]*/, " ");
    return `RUN${kept.map((f) => ` ${text.slice(f.start, f.end)}`).join("")}${gap}`;
  }

  /** `RUN <mounts> <flags> <the moved commands>` for a split RUN. */
  private prefixRun(run: InstructionNode, d: readonly Item[], mountText: string): string {
    const text = this.file.text;
    const chain = run.shell!.parse.ok ? run.shell!.parse.script.statements[0]!.andOr.pipelines : [];
    let body = "";
    d.forEach((item, k) => {
      const span = this.fileSpan(run, item.pipeline);
      let part = text.slice(span.start, span.end);
      if (item.kind === "variant" && item.install?.depsOnlySuffix && item.command) {
        const last = this.fileSpan(run, item.command.words[item.command.words.length - 1]!);
        part = text.slice(span.start, last.end) + item.install.depsOnlySuffix + text.slice(last.end, span.end);
      }
      if (k > 0) {
        // The separator that followed the previous moved command in the original chain.
        const prevIndex = chain.indexOf(d[k - 1]!.pipeline);
        body += text.slice(this.fileSpan(run, chain[prevIndex]!).end, this.fileSpan(run, chain[prevIndex + 1]!).start);
      }
      body += part;
    });
    const head = this.headFor(run, d);
    return head.slice(0, "RUN".length) + mountText + head.slice("RUN".length) + body;
  }

  /** The RUN that stays after the COPY: the original without the moved commands. */
  private restRun(run: InstructionNode, r: readonly Item[]): string {
    const text = this.file.text;
    const chain = run.shell!.parse.ok ? run.shell!.parse.script.statements[0]!.andOr.pipelines : [];
    const bodyStart = this.fileSpan(run, chain[0]!).start;
    let body = text.slice(bodyStart, run.end);
    const { edits, comments } = this.removeMoved(run, r);
    for (const e of edits.sort((a, b) => b.start - a.start))
      body = body.slice(0, e.start - bodyStart) + e.newText + body.slice(e.end - bodyStart);
    // Comment lines inside the removed part (chain-runs keeps them between
    // the commands it joins) go above the RUN: Docker drops them from the
    // continuation either way.
    const above = comments.map((c) => `${c}${this.file.eol}${this.indentOf(run)}`).join("");
    return above + this.headFor(run, r) + body;
  }

  /** Edits removing the moved commands from the RUN that stays after the COPY, and the comment lines they remove. */
  private removeMoved(run: InstructionNode, r: readonly Item[]): { edits: Edit[]; comments: string[] } {
    const chain = run.shell!.parse.ok ? run.shell!.parse.script.statements[0]!.andOr.pipelines : [];
    const keep = new Set(r.map((i) => i.pipeline));
    const edits: Edit[] = [];
    const comments: string[] = [];
    /** Comment lines in the separators after chain[from] … chain[to]. */
    const commentsBetween = (from: number, to: number) => {
      for (let k = from; k <= to; k++) {
        const gap = this.file.text.slice(this.fileSpan(run, chain[k]!).end, this.fileSpan(run, chain[k + 1]!).start);
        for (const m of gap.matchAll(/^[ \t]*(#.*?)[ \t]*\r?$/gm)) comments.push(m[1]!);
      }
    };
    for (let i = 0; i < chain.length;) {
      if (keep.has(chain[i]!)) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < chain.length && !keep.has(chain[j + 1]!)) j++;
      if (j + 1 < chain.length) {
        // `a && b && c` without a: from a up to b.
        const from = this.fileSpan(run, chain[i]!).start;
        const to = this.fileSpan(run, chain[j + 1]!).start;
        edits.push({ start: from, end: to, newText: "" });
        commentsBetween(i, j);
      } else {
        // Without the tail: from the end of the last kept command.
        const from = this.fileSpan(run, chain[i - 1]!).end;
        const to = this.fileSpan(run, chain[j]!).end;
        edits.push({ start: from, end: to, newText: "" });
        commentsBetween(i - 1, j - 1);
      }
      i = j + 1;
    }
    return { edits, comments };
  }
}

/** How an unread manifest commonly makes its install need the sources, by ecosystem (for the reviewer). */
function sourceNeedsOf(manifest: string): string {
  const name = manifest.slice(manifest.lastIndexOf("/") + 1);
  if (/^Gemfile/.test(name) || name.endsWith(".gemspec")) return "a `gemspec` line or `path:` gems in the Gemfile";
  if (/^composer\.(json|lock)$/.test(name)) return "classmap/files autoloading of the sources, path repositories";
  if (/^(package(-lock)?\.json|yarn\.lock|pnpm-lock\.yaml|npm-shrinkwrap\.json)$/.test(name)) {
    return "install scripts, workspaces, file: dependencies";
  }
  if (/^(pyproject\.toml|setup\.(py|cfg)|poetry\.lock|Pipfile(\.lock)?|uv\.lock)$/.test(name)) {
    return "the project itself, path dependencies";
  }
  if (/^go\.(mod|sum)$/.test(name)) return "replace directives to local paths";
  if (/^Cargo\.(toml|lock)$/.test(name)) return "path dependencies, workspace members, build.rs";
  return "nested -r/-c files, -e or local paths";
}
