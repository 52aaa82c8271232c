import path from "node:path";
import { parseDockerfile, type InstructionNode, type ParsedDockerfile, type Stage } from "../src/dockerfile.js";
import type { ShellScript, SimpleCommand } from "../src/shell.js";
import { allSimpleCommands } from "../src/shell-facts.js";
import { contextAt, envPairs } from "../src/stage-facts.js";
import type { BuildContext, Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import {
  canWrite,
  copyFacts,
  coveredBy,
  expand,
  isWithin,
  narrowedCopyText,
  narrowedSource,
  resolveIn,
  type CopyFacts,
} from "./lib/builder-runner-copy.js";
import { opaqueBuildStep, userBaseReachProblems } from "./lib/builder-runner-reach.js";
import { isToolingUpgrade, parsePipInstall, requirementsRefs, type PipInstall } from "./lib/builder-runner-pip.js";
import { dropUnits, dropWord, editedText, packageWords, unitsOf, type Unit } from "./lib/builder-runner-shell.js";
import { isPython, packageManagerCall, type PackageManagerCall } from "./lib/package-managers.js";
import { cacheMode } from "./lib/cache-mode.js";
import { analysableRuns, fileSpan, type RunInfo } from "./lib/runs.js";
import { isWindowsImage } from "./lib/windows-base.js";
import {
  classifyPackage,
  DEBIAN_STABLE_NAMES,
  installsWithoutBuildPackages,
  isAptPip,
  packageName,
  PIP_RECOMMENDED_BUILD,
  type DistroFamily,
} from "./lib/runtime-packages.js";
// The registry, to let the other passes settle first (see `othersPending`).

const id = "builder-runner";
const posix = path.posix;

/**
 * Compilers and -dev headers are needed to BUILD C extensions, not to run
 * them. A single-stage image that apt-installs them for `pip install` ships
 * them forever. Splitting it (guide 003) keeps them in a builder stage that
 * runs `pip install --user`, and gives the final image only the runtime
 * libraries plus `COPY --from=builder` of the user site.
 */
export const builderRunner: Pass = {
  meta: {
    id,
    title: "Builder/runner split for pip builds",
    summary:
      "Move compilers and -dev packages of a pip build into a builder stage; the image keeps only runtime libraries",
    defaultEnabled: true,
    // The split copies ENV/RUN lines into a second stage: it must see the file
    // the other passes settled on, whatever their order.
    runsLast: true,
    doc: `## What it does
For a single-stage Python image (a \`python:*\` base, or a stage that
installs python3 with apt/apk) whose \`pip install\` needs build packages
(gcc, build-essential, \`*-dev\` headers such as libpq-dev; on Alpine
build-base, musl-dev, postgresql-dev…), it makes two stages from the same base:

- **builder** (the original lines, in place): the package installs as
  written, only the files the install reads (the \`-r\`/\`-c\` files and local
  \`--find-links\` directories, respecting WORKDIR), and the install itself
  with \`--user\` added;
- **runner** (the original \`FROM\`, named \`runner\` unless it had a name):
  the same ENV/ARG/WORKDIR, the package installs without the build packages
  but with their runtime libraries (libpq-dev → libpq5, from the table in
  \`passes/lib/runtime-packages.ts\`), \`COPY --from=builder\` of the user site,
  \`ENV PATH\` for its scripts, then the rest of the file in order and byte for
  byte. The packages are copied before the app's own \`COPY\` where that is
  provably independent, so a code change does not re-copy them; a COPY that
  a later \`COPY . <dir>\` writes again (manifest-first-copy's
  \`COPY requirements.txt .\`) is left out of the runner.

A full \`python:X.Y\` base gets a \`python:X.Y-slim\` runner (unsafe, see below),
also when nothing is apt-installed: the full image is a builder already
(compilers and -dev headers preinstalled). A builder step lists the Debian
packages owning the shared libraries the installed extensions link (\`ldd\`
on every \`*.so*\` of the user site, \`dpkg -S\` on each library, tried as
printed and through \`readlink -f\` for merged-/usr paths), and a runner step
installs those the slim image lacks (no \`apt-get update\` when none is
missing). The list reaches the runner through a bind mount from the builder
(a \`COPY --from\` removed after use when the file may not use BuildKit).

\`apt-get install python3-pip\` without \`--no-install-recommends\` installs
its recommends build-essential and python3-dev: build packages the file never
names. The runner's install then ends in \`build-essential- python3-dev-\`
(a trailing \`-\` tells apt-get not to install a package, so the
recommendation is skipped) and the image keeps everything else it installed.
A RUN that chain-runs merged (\`apt-get install … && pip install … && apt-get
purge …\`, or alpine-to-debian's \`apt-mark auto … && apt-get autoremove\`) is
taken apart; mounts that cache-mounts added stay on the builder's RUN (the
runner's keeps its apt mounts, not the pip one).

The pass waits until the other enabled passes have nothing left to change
in the file, then splits: it copies instructions into a second stage and
moves pip out of the final one, so splitting earlier would let the order of
passes decide what ends up in each stage.

## Why
Compilers and headers are hundreds of MB an image never uses after the build
(guide 003: 770 MB → 538 MB for libpq-dev + gcc; on the bench apps
orders-pg-slim shrinks by about 60 %, notes-flask-ubuntu, whose python3-pip
brought build-essential, by about 70 %, and the full python:3.11 apps by
about 70 % with --unsafe: see bench/apps/README.md). Purging them in the same layer works too but
keeps the install and the compile in one slow, uncached step; the builder
stage leaves the final image clean by construction.

## Example
\`\`\`dockerfile
FROM python:3.9.5-slim
RUN apt-get update && apt-get install -y libpq-dev gcc
COPY requirements.txt .
RUN pip install -r requirements.txt
\`\`\`
becomes
\`\`\`dockerfile
FROM python:3.9.5-slim AS builder
RUN apt-get update && apt-get install -y libpq-dev gcc
COPY requirements.txt .
RUN pip install --user -r requirements.txt

FROM python:3.9.5-slim AS runner
RUN apt-get update && apt-get install -y libpq5
COPY requirements.txt .
COPY --from=builder /root/.local /root/.local
ENV PATH=/root/.local/bin:$PATH
\`\`\`

## Safety
Safe when every step is proven from the file:

- **Same interpreter, same site rules.** Both stages use the same base, so
  \`pip install --user\` in the builder targets the user site of the Python the
  runner runs. Refused when a virtualenv, conda, poetry/pipenv/uv,
  \`--target\`, \`--prefix\`, \`--root\`, editable or local-project installs
  (\`pip install .\`, \`-e\`, \`setup.py\`) are involved, when \`HOME\`,
  \`PYTHONUSERBASE\`, \`PYTHONNOUSERSITE\` or \`PIP_USER/TARGET/PREFIX\` are set,
  when pip installs are spread over several RUNs, or when the install runs as
  a non-root USER.
- **Non-root USER.** /root is mode 700, so a final \`USER app\` could not read
  /root/.local. The pass then sets \`PYTHONUSERBASE=/home/app/.local\` in the
  builder (pip --user installs exactly there) and in the runner (Python
  looks exactly there, whatever HOME or the passwd entry say), copies it with
  \`COPY --from=builder --chown=app\` (the user owns and can read every file;
  root, for RUNs before the USER line, reads anything) and puts its \`bin\` on
  PATH. The copy lands where the original install ran, so the user must exist
  by then (created by useradd/adduser earlier, a numeric id, or a base user
  such as nobody); otherwise the pass refuses. Two different non-root users
  after the install are refused. An image that runs as root in the
  Dockerfile but is started with \`docker run --user\` (or a Kubernetes
  runAsUser) can't read /root/.local: declare the user with USER so the pass
  installs for it.
- **The final image still reaches the packages.** They move from the
  interpreter's prefix (/usr/local; /usr for Alpine's python), which every
  user and every python finds, to a user base only that user's site finds.
  Refused when the file names a path into the old prefix
  (\`/usr/local/bin/gunicorn\`, \`…/site-packages\`; paths a COPY puts there and
  the interpreter itself are fine), switches user at run time (gosu,
  su-exec, su, \`sudo -u\`, setpriv, runuser, chpst, \`gunicorn --user\`,
  \`uwsgi --uid\`…; installing such a tool counts), runs python with the
  user site off (\`-s\`, \`-I\`; \`-E\` when PYTHONUSERBASE finds them), or
  declares a VOLUME over the user base. An ENTRYPOINT/CMD script is read
  from the build context (via the COPY that puts it in place) and checked
  the same way; when dfopt can't read it the change is **unsafe**. Config
  files the file doesn't show (a supervisord \`user=\`, a uwsgi.ini \`uid\`)
  can't be checked.
- **Build packages out, runtime libraries in.** Packages are split with the
  table: known build packages go to the builder only, their runtime libraries
  to the runner; everything else (curl, git, make, python3, libpq5…) goes to
  both. A \`*-dev\` package the table doesn't know makes the change **unsafe**
  (\`unsafeBecause\` names it). Runtime names are Debian bookworm's, each
  checked with apt-cache by the tests. On an older Debian (a \`-bullseye\` tag,
  \`debian:buster\`, or a python tag older than bookworm such as 3.6 or 3.9.5)
  the change stays safe only when every runtime name is one that has not
  changed since jessie (libpq5, zlib1g, libxml2…); when a name did change
  (libffi8, libssl3…) on a release known to be older (or Ubuntu before
  22.04) the runner's install would fail, so the pass refuses; on a newer
  Ubuntu, Debian after bookworm or an unknown base it is **unsafe**. Removals of build packages in the install
  RUN (\`apt-get purge\`, \`apk del .build-deps\`, \`apt-mark auto\`) are
  dropped from the runner, which never had them; in a later RUN they are
  refused. An \`apt-get update\` RUN that later installs rely on is kept.
- **Nothing else needs the build tools.** Refused when a later instruction
  (RUN, CMD, ENTRYPOINT, HEALTHCHECK) or a RUN before the install that the
  runner keeps calls gcc, make, cmake, pkg-config, setup.py…, a shell
  script dfopt can't see into (\`./build.sh\`, \`bash install.sh\`; Python
  scripts don't compile), or an installer that may build native code (npm/yarn/pnpm
  install, gem/bundle install, cpanm, node-gyp, go build). What the app does
  at run time beyond its CMD can't be seen from the Dockerfile.
- **The builder sees what pip reads.** Instructions before the install that
  can change it (ENV, ARG, WORKDIR, SHELL, package installs, unknown RUNs)
  are replayed in the builder; user creation, mkdir/chown/chmod and metadata
  go to the runner only, and a RUN the builder replays after something it
  left out is refused. A \`COPY . .\` is narrowed to the files the install
  names. When dfopt knows the build context (the CLI default) it reads each
  requirements file and also copies the files it names (\`-r\`, \`-c\`,
  \`--find-links\`); a local project in it makes the pass refuse. Without the
  context (stdin) a narrowed or dropped COPY makes the change **unsafe**: a
  requirements file could name other files. A COPY that only holds the
  requirements file is replayed as written, which is always safe. A COPY
  that could write pip's config (/etc/pip.conf, ~/.config/pip, ~/.netrc,
  \$PIP_CONFIG_FILE) is replayed whole.
- **Everything the install RUN does is placed.** Commands after the install
  in its RUN may only be cleanup or user setup; anything else (its output may
  be needed) makes the pass refuse, as do \`||\`/\`&\` chains it would have to
  cut. Dropping a command keeps the others' conditions: \`a; b && c\` without
  \`b\` becomes \`a; c\`, not \`a && c\`.
- **python3-pip's recommends.** With recommends on (no
  \`--no-install-recommends\`, no \`Install-Recommends\` option or apt.conf
  line anywhere in the file) an install of python3-pip brings build-essential
  and python3-dev (apt-cache, checked by the tests). Telling the runner's
  apt-get to leave them out drops exactly what they pull in (compilers,
  headers, and their own dependencies and recommends: make, perl, patch,
  xz-utils, bzip2, gnupg, netbase…), the set an explicit
  \`apt-get install build-essential python3-dev\` would have dropped; every
  other package, recommended or not, is still installed. It is done only
  when every package that install keeps is known not to depend on them
  (\`NO_BUILD_DEPENDS\` and the runtime libraries of the table, checked with
  \`apt-cache depends --recurse\`): otherwise apt-get would fail, and the
  pass refuses when those recommends were the only build packages. And only
  when every RUN the runner keeps runs package-manager, user or permission
  commands, and CMD/ENTRYPOINT/HEALTHCHECK run none of those tools (\`tar
  -xJ\` needs xz; \`make serve\` needs make); otherwise it refuses.
- **Full image → slim.** A \`python:X.Y\` base gets a \`python:X.Y-slim\` runner
  (the reason says so). This is **unsafe**: the full image has tools (git,
  curl, wget, compilers…) and libraries that the app may run or load
  (subprocess, ctypes/dlopen) without the Dockerfile naming them. The shared
  libraries the built extensions and programs (\`*.so*\` and every executable
  in the user base: a compiled uwsgi links libxml2) link are given back by
  construction: the builder lists their Debian packages with ldd + dpkg -S, and the runner
  installs the ones the slim image lacks. Libraries bundled in wheels
  (auditwheel's \`.libs\`) belong to no package and come with the user site.
  Refused when the stage sets SHELL (the steps are /bin/sh) or the full tag
  has no nameable slim variant (a digest, a variable).
- Every comment line stays: comments above moved instructions move with them;
  the builder keeps the comments of the lines it keeps as written.
- Idempotent: a file with more than one stage is never split again (when its
  final stage still compiles, the pass says so in a skip).

## References
- Guide 003 (learning log: multistage builds with \`pip install --user\`, 770 MB → 538 MB)
- apt-get(8): a package name followed by \`-\` in \`install\` is not installed (removed): https://manpages.debian.org/bookworm/apt/apt-get.8.en.html
- python3-pip's Recommends (build-essential, python3-dev): https://packages.debian.org/bookworm/python3-pip
- dpkg-query(1) \`--search\`, ldd(1): https://manpages.debian.org/bookworm/dpkg/dpkg-query.1.en.html
- Docker docs, multi-stage builds: https://docs.docker.com/build/building/multi-stage/
- pip user installs: https://pip.pypa.io/en/stable/user_guide/#user-installs
- Python site module, USER_BASE / PYTHONUSERBASE: https://docs.python.org/3/library/site.html#site.USER_BASE
- Debian package search (runtime library names per release): https://packages.debian.org/
`,
  },
  run(file, options): PassResult {
    const skips: Skip[] = [];
    const changes: Change[] = [];
    try {
      if (file.stages.length !== 1) {
        const last = file.stages[file.stages.length - 1]!;
        const survey = surveyStage(file, last, options);
        if (survey.candidate) {
          skips.push({
            pass: id,
            at: last.from.start,
            reason: "already multi-stage: builder-runner only splits single-stage files",
          });
        }
        return { changes, skips };
      }
      const change = planSplit(file, file.stages[0]!, options);
      if (change) changes.push(change);
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      skips.push({ pass: id, at: error.at, reason: error.reason });
    }
    return { changes, skips };
  },
};

/** A reason to leave the file alone, reported as a Skip at `at`. */
class Refusal extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function refuse(at: number | InstructionNode, reason: string): never {
  throw new Refusal(typeof at === "number" ? at : at.start, reason);
}

// ---------------------------------------------------------------------------
// The base image

interface Base {
  readonly python: boolean;
  readonly family: DistroFamily | null;
  /** Debian codename, "ubuntu", or null when unknown. */
  readonly release: string | null;
  /** The image as written, and resolved through global ARGs. */
  readonly written: string;
  readonly resolved: string;
  /** A full (non-slim) Debian python:X.Y image. */
  readonly fullPython: boolean;
  /** The written image of its slim variant, when it can be named. */
  readonly slim: string | null;
}

const CODENAMES = ["trixie", "bookworm", "bullseye", "buster", "stretch", "jessie", "sid"];
const DEBIAN_VERSIONS: Record<string, string> = {
  "13": "trixie",
  "12": "bookworm",
  "11": "bullseye",
  "10": "buster",
  "9": "stretch",
  "8": "jessie",
};

function baseOf(file: ParsedDockerfile, stage: Stage, options: PassOptions): Base {
  const globals = new Map<string, string>();
  for (const node of file.instructions) {
    if (node.stage === -1 && node.keyword === "ARG") for (const [k, v] of envPairs(node)) globals.set(k, v);
  }
  const written = stage.image;
  const resolved = expand(written, globals) ?? written;
  const digest = resolved.includes("@");
  const ref = resolved.split("@")[0]!;
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  const repo = (colon > slash ? ref.slice(0, colon) : ref).replace(
    /^(docker\.io\/|index\.docker\.io\/)?(library\/)?/,
    "",
  );
  const tag = colon > slash ? ref.slice(colon + 1) : "";
  const codename = CODENAMES.find((c) => tag.includes(c)) ?? null;
  const none: Base = { python: false, family: null, release: null, written, resolved, fullPython: false, slim: null };
  switch (repo) {
    case "python": {
      if (isWindowsImage(tag)) return none;
      if (tag.includes("alpine")) return { ...none, python: true, family: "alpine" };
      const slimTag = /(^|-)slim(-|$)/.test(tag);
      const fullPython = !slimTag && !tag.includes("$");
      let slim: string | null = null;
      if (fullPython && !digest && !written.includes("$") && !written.includes("@")) {
        const m = /^(.*?)-?(trixie|bookworm|bullseye|buster|stretch|jessie)$/.exec(tag);
        const slimmed = m
          ? m[1]
            ? `${m[1]}-slim-${m[2]}`
            : `slim-${m[2]}`
          : tag === "" || tag === "latest"
            ? "slim"
            : `${tag}-slim`;
        slim = `${ref.slice(0, colon > slash ? colon : ref.length)}:${slimmed}`;
      }
      return {
        ...none,
        python: true,
        family: "debian",
        release: codename ?? pythonTagRelease(tag) ?? options.debianRelease,
        fullPython,
        slim,
      };
    }
    case "debian": {
      const version = /^(\d+)/.exec(tag)?.[1];
      const release = codename ?? (version ? (DEBIAN_VERSIONS[version] ?? null) : options.debianRelease);
      return { ...none, family: "debian", release };
    }
    case "ubuntu": {
      // Before 22.04 the library names are older than bookworm's (libssl1.1, libffi7…).
      const year = /^(\d+)\./.exec(tag)?.[1];
      const old = /trusty|xenial|bionic|focal/.test(tag) || (year !== undefined && Number(year) < 22);
      return { ...none, family: "debian", release: old ? "ubuntu-pre-22.04" : "ubuntu" };
    }
    case "alpine":
      return { ...none, family: "alpine" };
    default:
      return none;
  }
}

/**
 * The first patch release of each Python minor whose images were built on
 * bookworm (June 2023); earlier pinned tags are on buster or bullseye, and
 * minors before 3.8 never had a bookworm default.
 */
const FIRST_BOOKWORM_PATCH: Record<string, number> = { "3.8": 17, "3.9": 17, "3.10": 12, "3.11": 4 };

/** "pre-bookworm" for a python:X.Y[.Z] tag older than bookworm, else null (use the default release). */
function pythonTagRelease(tag: string): string | null {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?![\d.])/.exec(tag);
  if (!m) return null;
  const [major, minor, patch] = [Number(m[1]), Number(m[2]), m[3] === undefined ? null : Number(m[3])];
  if (major < 3 || (major === 3 && minor < 8)) return "pre-bookworm";
  const first = FIRST_BOOKWORM_PATCH[`${major}.${minor}`];
  if (patch !== null && first !== undefined && patch < first) return "pre-bookworm";
  return null;
}

/** Older Debian releases: library names older than bookworm's (libssl1.1, libffi7, libreadline7…). */
const OLDER_DEBIAN = ["pre-bookworm", "bullseye", "buster", "stretch", "jessie"];
/** Debian names no Ubuntu release has (Ubuntu ships libjpeg-turbo8). */
const NOT_ON_UBUNTU = new Set(["libjpeg62-turbo"]);

/**
 * Why the runtime names may be wrong for this base's release, or null.
 * `certain`: a name is known not to exist there (a name that changed since
 * an older Debian release, any non-stable name before Ubuntu 22.04, a
 * Debian-only name on Ubuntu), so the runner's apt-get install would fail:
 * refused rather than offered as an unsafe change.
 */
function releaseProblem(
  base: Base,
  family: DistroFamily,
  runtime: readonly string[],
): { reason: string; certain: boolean } | null {
  if (family !== "debian" || runtime.length === 0 || base.release === "bookworm") return null;
  const changed = runtime.filter((p) => !DEBIAN_STABLE_NAMES.has(p));
  const missing =
    base.release === "ubuntu"
      ? runtime.filter((p) => NOT_ON_UBUNTU.has(p))
      : base.release === "ubuntu-pre-22.04"
        ? [...new Set([...changed, ...runtime.filter((p) => NOT_ON_UBUNTU.has(p))])]
        : base.release !== null && OLDER_DEBIAN.includes(base.release)
          ? changed
          : [];
  if (missing.length > 0) {
    const release = base.release === "pre-bookworm" ? "an older Debian release" : base.release;
    return {
      certain: true,
      reason: `the runner would install bookworm's ${missing.join(", ")}, which ${release} names differently; left as one stage`,
    };
  }
  if (base.release !== null && OLDER_DEBIAN.includes(base.release)) return null; // only names stable since jessie
  const release = base.release ?? "an unknown release";
  return {
    certain: false,
    reason: `runtime package names (${runtime.join(", ")}) are checked for Debian bookworm; this base is ${release}`,
  };
}

// ---------------------------------------------------------------------------
// What the stage does

interface PipCall {
  readonly call: PackageManagerCall;
  readonly install: PipInstall;
}

interface RunFacts {
  readonly node: InstructionNode;
  /** Null when the RUN is not a shell form dfopt can parse. */
  readonly info: RunInfo | null;
  readonly refusedBecause: string | null;
  readonly calls: readonly PackageManagerCall[];
  /** pip installs other than `pip install -U pip setuptools wheel`. */
  readonly pipMain: readonly PipCall[];
}

interface Survey {
  readonly candidate: boolean;
  readonly base: Base;
  readonly family: DistroFamily | null;
  readonly runs: ReadonlyMap<InstructionNode, RunFacts>;
  /** The RUN holding the (first) main pip install. */
  readonly pipRun: InstructionNode | null;
  /** Build packages (bare names) installed before or in the pip RUN. */
  readonly buildPackages: ReadonlySet<string>;
  /** apk `--virtual` names whose packages are all build packages. */
  readonly buildVirtuals: ReadonlySet<string>;
  /**
   * Build packages no install line names but apt-get installs anyway:
   * python3-pip's recommends (build-essential, python3-dev) when an install
   * of python3-pip up to the pip RUN runs with recommends.
   */
  readonly implicitBuild: ReadonlySet<string>;
}

const OPAQUE_PIP = /\bpip[0-9.]*\b[^\n]*\binstall\b/;

function surveyStage(file: ParsedDockerfile, stage: Stage, options: PassOptions): Survey {
  const base = baseOf(file, stage, options);
  const analysable = analysableRuns(file);
  const infos = new Map(analysable.runs.map((r) => [r.node, r]));
  const refused = new Map(analysable.refused.map((r) => [r.node, r.reason]));
  const runs = new Map<InstructionNode, RunFacts>();
  let pipRun: InstructionNode | null = null;
  let managerFamily: DistroFamily | null = null;
  let installsPython = false;
  for (const node of stage.instructions) {
    if (node.keyword !== "RUN") continue;
    const info = infos.get(node) ?? null;
    const calls = info ? packageManagerCallsOf(info.script) : [];
    const pipMain: PipCall[] = [];
    for (const call of calls) {
      const install = parsePipInstall(call);
      if (install && !isToolingUpgrade(install)) pipMain.push({ call, install });
      if (call.manager === "apt-get" || call.manager === "apt") managerFamily ??= "debian";
      if (call.manager === "apk") managerFamily ??= "alpine";
      if (isPackageInstall(call)) {
        for (const p of packageWords(call).packages) {
          if (/^(python[0-9.]*|python[0-9.]*-pip|py3-pip|python[0-9.]*-minimal)$/.test(packageName(p.value))) {
            installsPython = true;
          }
        }
      }
    }
    const refusedBecause = info ? null : (refused.get(node) ?? `RUN is in ${node.form} form`);
    runs.set(node, { node, info, refusedBecause, calls, pipMain });
    if (pipRun === null && pipMain.length > 0) pipRun = node;
  }
  const family = base.family ?? managerFamily;
  const buildPackages = new Set<string>();
  const buildVirtuals = new Set<string>();
  const implicitBuild = new Set<string>();
  if (pipRun && family) {
    for (const node of stage.instructions) {
      if (node.index > pipRun.index) break;
      const facts = runs.get(node);
      if (!facts) continue;
      const firstPip = node === pipRun ? facts.pipMain[0]!.call.command.start : Infinity;
      for (const call of facts.calls) {
        if (!isPackageInstall(call) || call.command.start > firstPip) continue;
        const words = packageWords(call);
        let allBuild = words.packages.length > 0;
        for (const p of words.packages) {
          if (classifyPackage(family, p.value).kind === "other") allBuild = false;
          else buildPackages.add(packageName(p.value));
        }
        if (words.virtualName && allBuild) buildVirtuals.add(words.virtualName);
        if (family === "debian" && words.packages.some((p) => isAptPip(p.value)) && installsRecommends(file, call)) {
          for (const p of PIP_RECOMMENDED_BUILD) implicitBuild.add(p);
        }
      }
    }
  }
  for (const p of buildPackages) implicitBuild.delete(p);
  const python = base.python || installsPython;
  // A full python:X.Y image is a builder already: compilers and -dev headers come with it.
  const builds = buildPackages.size > 0 || implicitBuild.size > 0 || base.fullPython;
  const candidate = python && pipRun !== null && builds;
  return { candidate, base, family, runs, pipRun, buildPackages, buildVirtuals, implicitBuild };
}

/**
 * Whether an `apt-get install` installs recommended packages: no
 * `--no-install-recommends`, no `-o APT::Install-Recommends=…`, and nothing in
 * the file configures it (an apt.conf.d file written by a RUN, whatever its
 * value). A word that expands at build time could be either: counted as no.
 */
function installsRecommends(file: ParsedDockerfile, call: PackageManagerCall): boolean {
  if (call.manager !== "apt-get" && call.manager !== "apt") return false;
  if (call.args.some((a) => a === null || /^--no-install-recommends|install-recommends/i.test(a))) return false;
  return !/install-recommends/i.test(file.text);
}

function packageManagerCallsOf(script: ShellScript): PackageManagerCall[] {
  const calls: PackageManagerCall[] = [];
  for (const command of allSimpleCommands(script.statements)) {
    const call = packageCall(command);
    if (call) calls.push(call);
  }
  return calls;
}

function isPackageInstall(call: PackageManagerCall): boolean {
  if (call.manager === "apk") return call.subcommand === "add";
  return (call.manager === "apt-get" || call.manager === "apt") && call.subcommand === "install";
}

function isPackageRemoval(call: PackageManagerCall): boolean {
  if (call.manager === "apk") return call.subcommand === "del";
  return (call.manager === "apt-get" || call.manager === "apt") && /^(purge|remove)$/.test(call.subcommand ?? "");
}

// ---------------------------------------------------------------------------
// Commands

type UnitKind =
  "pip-main" | "pip-tooling" | "install" | "remove" | "maintenance" | "upgrade" | "cd" | "harmless" | "other";

/** Commands with no effect a later pip install could see, and none on copied files. */
const HARMLESS = new Set([
  "useradd",
  "adduser",
  "groupadd",
  "addgroup",
  "usermod",
  "mkdir",
  "true",
  ":",
  "set",
  "export",
  "echo",
  "printf",
]);

/** Commands a RUN may hold and still go to the runner only (user setup, permissions). */
const RUNNER_ONLY = new Set([...HARMLESS, "chown", "chmod", "touch"]);

const CACHE_PATH =
  /^(\/var\/lib\/apt\/lists|\/var\/cache\/(apt|apk)|\/root\/\.cache|\/tmp\/|~\/\.cache|\/var\/tmp\/|\/etc\/apt\/apt\.conf\.d\/)/;
/** apt settings files (cache-mounts' `Keep-Downloaded-Packages` idiom). */
const APT_CONF = /^\/etc\/apt\/apt\.conf\.d\/[^/]+$/;

/**
 * The package-manager call of a command, counting `apt-mark auto PKG…` (the
 * purge idiom alpine-to-debian writes: mark build packages automatic, then
 * `apt-get autoremove`) as a removal of those packages.
 */
function packageCall(command: SimpleCommand): PackageManagerCall | null {
  const call = packageManagerCall(command);
  if (call) return call;
  if (command.name !== "apt-mark") return null;
  const args = command.words.slice(1).map((w) => w.value);
  const subcommand = args.find((a) => a === null || !a.startsWith("-")) ?? null;
  return { manager: "apt-get", command, argsFrom: 1, subcommand: subcommand === "auto" ? "remove" : subcommand, args };
}

function unitKind(command: SimpleCommand | null): UnitKind {
  if (command === null) return "other";
  const call = packageCall(command);
  if (call) {
    if (call.manager === "pip") {
      const install = parsePipInstall(call);
      if (!install) return "other";
      return isToolingUpgrade(install) ? "pip-tooling" : "pip-main";
    }
    if (call.manager === "apt-get" || call.manager === "apt" || call.manager === "apk") {
      if (isPackageInstall(call)) return "install";
      if (isPackageRemoval(call)) return "remove";
      const sub = call.subcommand ?? "";
      if (/^(update|clean|autoclean|autoremove|cache)$/.test(sub)) return "maintenance";
      if (/^(upgrade|dist-upgrade|full-upgrade)$/.test(sub)) return "upgrade";
    }
    return "other";
  }
  const name = command.name;
  if (name === "cd") return "cd";
  if (name === "rm") {
    const targets = command.words.slice(1).filter((w) => !(w.value ?? "").startsWith("-"));
    if (targets.length > 0 && targets.every((w) => w.value !== null && CACHE_PATH.test(w.value))) return "maintenance";
    return "other";
  }
  if (
    (name === "echo" || name === "printf") &&
    command.redirects.length === 1 &&
    command.redirects[0]!.target !== null &&
    APT_CONF.test(command.redirects[0]!.target)
  ) {
    return "maintenance";
  }
  if (name !== null && HARMLESS.has(name) && command.redirects.length === 0) return "harmless";
  return "other";
}

/** Programs that need the build packages (compilers, build drivers, setup.py). */
const BUILD_TOOLS =
  /^(gcc|cc|c\+\+|g\+\+|clang|clang\+\+|cpp|make|gmake|cmake|ninja|meson|ld|pkg-config|pkgconf|gfortran|cython|cythonize|f2py|swig|cargo|rustc|maturin)(-[\d.]+)?$/;

function buildToolIn(command: SimpleCommand): string | null {
  const name = command.name;
  if (name === null) return null;
  const bare = name.slice(name.lastIndexOf("/") + 1);
  if (BUILD_TOOLS.test(bare)) return bare;
  if (isPython(bare) && command.words.some((w) => w.value !== null && /(^|\/)setup\.py$/.test(w.value))) {
    return "setup.py";
  }
  return null;
}

const BUILD_TOOL_TEXT =
  /(^|[\s"'`;&|(/\[,])(gcc|cc|c\+\+|g\+\+|clang|make|cmake|ninja|meson|pkg-config|gfortran|cython|f2py|swig|cargo|rustc|setup\.py)(?=$|[\s"'`;&|),\]])/m;

/** Why an instruction after the split still needs build tools, or null. */
function needsBuildTools(file: ParsedDockerfile, node: InstructionNode, facts: RunFacts | undefined): string | null {
  if (facts?.info) {
    for (const command of allSimpleCommands(facts.info.script.statements)) {
      const tool = buildToolIn(command) ?? opaqueBuildStep(command);
      if (tool) return tool;
    }
    return null;
  }
  // The raw text: JSON strings keep their spaces (`["sh", "-c", "gcc …"]`).
  const body = file.text.slice(node.bodyStart, node.end);
  return BUILD_TOOL_TEXT.exec(body)?.[2] ?? null;
}

// ---------------------------------------------------------------------------
// The plan

/** ENV/ARG names that move where `pip --user` installs or where Python looks. */
const BLOCKING_ENV = new Set([
  "HOME",
  "PYTHONUSERBASE",
  "PYTHONNOUSERSITE",
  "PIP_USER",
  "PIP_TARGET",
  "PIP_PREFIX",
  "PIP_ROOT",
  "PIP_REQUIRE_VIRTUALENV",
  "VIRTUAL_ENV",
  "CONDA_PREFIX",
]);

const OTHER_INSTALLERS = new Set([
  "poetry",
  "pipenv",
  "conda",
  "mamba",
  "micromamba",
  "virtualenv",
  "uv",
  "pdm",
  "hatch",
]);

const BASE_USERS: Record<DistroFamily, ReadonlySet<string>> = {
  debian: new Set(["root", "nobody", "daemon", "www-data"]),
  alpine: new Set(["root", "nobody", "daemon"]),
};

/** Files pip reads without being told (config and credentials). */
const PIP_CONFIG_PATHS = [
  "/etc/pip.conf",
  "/etc/xdg/pip/pip.conf",
  "/root/.pip/pip.conf",
  "/root/.config/pip/pip.conf",
  "/root/.netrc",
];

interface Needed {
  /** Absolute path in the image. */
  readonly path: string;
  readonly what: "requirements" | "constraints" | "find-links" | "archive";
}

/**
 * Whether a piece of the runner can come after `COPY --from=builder`:
 * always (metadata, an app COPY away from system and user-site paths), only
 * when no install RUN goes with the packages (ENV/WORKDIR/USER would change
 * how that RUN runs), or never (RUNs, SHELL, VOLUME, PATH settings).
 */
type Movable = "always" | "without-run" | "never";

/** One piece of the runner stage before the packages are copied in. */
interface RunnerItem {
  readonly text: string;
  readonly movable: Movable;
  readonly copy: CopyFacts | null;
  readonly hasComments: boolean;
}

function planSplit(file: ParsedDockerfile, stage: Stage, options: PassOptions): Change | null {
  const survey = surveyStage(file, stage, options);
  if (!survey.candidate) return null;
  const family = survey.family!;
  const base = survey.base;
  const pipRun = survey.pipRun!;
  const pipFacts = survey.runs.get(pipRun)!;
  const eol = file.eol;
  const unsafe: string[] = [];

  // One RUN holds every pip install.
  for (const [node, facts] of survey.runs) {
    if (node === pipRun) continue;
    if (facts.pipMain.length > 0) {
      refuse(
        node,
        `pip installs are spread over several RUNs (lines ${pipRun.line} and ${node.line}); the split moves one`,
      );
    }
    if (!facts.info && OPAQUE_PIP.test(file.text.slice(node.start, node.end))) {
      refuse(node, `RUN at line ${node.line} may run pip but can't be analysed (${facts.refusedBecause})`);
    }
  }
  const pipInfo = pipFacts.info!;
  for (const { install } of pipFacts.pipMain) {
    if (install.problem) refuse(pipRun, `${install.problem}; left as one stage`);
  }

  // Who runs the install, and where Python will look for user packages.
  const pipContext = contextAt(file, pipRun);
  const preUsers = stage.instructions.filter((n) => n.keyword === "USER" && n.index < pipRun.index);
  for (const u of preUsers) {
    if (!isRootUser(u.args[0]?.value ?? "")) {
      refuse(u, `pip install runs as USER ${u.args[0]?.value}; the builder installs as root`);
    }
  }
  for (const node of stage.instructions) {
    if (node.keyword !== "ENV" && node.keyword !== "ARG") continue;
    for (const [name, value] of envPairs(node)) {
      if (BLOCKING_ENV.has(name))
        refuse(node, `${node.keyword} ${name} changes where pip --user installs or Python finds user packages`);
      if (name === "PATH" && /venv|virtualenv|conda|\.env\//.test(value)) {
        refuse(node, "PATH points into a virtualenv; pip --user can't install there (copy the venv instead)");
      }
    }
  }
  for (const facts of survey.runs.values()) {
    if (!facts.info) continue;
    for (const command of allSimpleCommands(facts.info.script.statements)) {
      const words = command.words.map((w) => w.value);
      const name = (command.name ?? "").slice((command.name ?? "").lastIndexOf("/") + 1);
      if (OTHER_INSTALLERS.has(name))
        refuse(facts.node, `the stage also uses ${name}; only plain pip installs are split`);
      if (isPython(name) && words.some((w, i) => w === "-m" && /^(venv|virtualenv)$/.test(words[i + 1] ?? ""))) {
        refuse(facts.node, "the stage creates a virtualenv; pip --user can't install into it");
      }
      if ((name === "source" || name === ".") && words.some((w) => w !== null && /activate$/.test(w))) {
        refuse(facts.node, "the stage activates a virtualenv; pip --user can't install into it");
      }
      if (isPython(name) && words.some((w) => w !== null && /(^|\/)setup\.py$/.test(w))) {
        refuse(facts.node, "setup.py builds from the source tree; left as one stage");
      }
    }
  }

  // The install RUN, command by command.
  const pipUnits = unitsOf(pipInfo.script);
  if (!pipUnits) refuse(pipRun, "the pip RUN joins commands with || or &; the split can't take it apart");
  const pipKinds = pipUnits.map((u) => unitKind(u.command));
  for (const { call } of pipFacts.pipMain) {
    if (!pipUnits.some((u) => u.command === call.command)) {
      refuse(pipRun, "pip install runs inside a compound command (if/for/subshell/pipe); left as one stage");
    }
  }
  const lastPip = pipKinds.lastIndexOf("pip-main");
  const firstPip = pipKinds.indexOf("pip-main");
  for (let i = lastPip + 1; i < pipUnits.length; i++) {
    if (!["maintenance", "remove", "pip-tooling", "harmless", "cd"].includes(pipKinds[i]!)) {
      refuse(
        pipRun,
        `the pip RUN runs \`${commandText(pipInfo.script, pipUnits[i]!)}\` after the install; the final image may need its output`,
      );
    }
  }
  // Working directory of the install: WORKDIR, then any `cd` before it.
  const pipPlace = placeAt(stage, pipRun);
  if (pipPlace.workdir === null)
    refuse(pipRun, "WORKDIR expands a variable dfopt can't resolve; can't tell where pip reads its files");
  let cwd = pipPlace.workdir;
  for (let i = 0; i < firstPip; i++) {
    if (pipKinds[i] !== "cd") continue;
    const target = pipUnits[i]!.command!.words[1];
    if (!target) cwd = "/root";
    else if (target.value === null || target.value === "-")
      refuse(pipRun, "the pip RUN changes directory to a path dfopt can't resolve");
    else cwd = resolveIn(cwd, target.value);
  }

  // Instructions after the install stay in the runner: they must not need
  // the build packages or remove them.
  const finalUsers = new Set<string>();
  for (const node of stage.instructions) {
    if (node.index <= pipRun.index) continue;
    if (["RUN", "CMD", "ENTRYPOINT", "HEALTHCHECK", "ONBUILD"].includes(node.keyword)) {
      const facts = survey.runs.get(node);
      const tool = needsBuildTools(file, node, facts);
      if (tool) refuse(node, `line ${node.line} runs ${tool}, which may need the build packages the runner leaves out`);
      for (const call of facts?.calls ?? []) {
        if (!isPackageRemoval(call)) continue;
        const removed = packageWords(call).packages.find(
          (p) => survey.buildPackages.has(packageName(p.value)) || survey.buildVirtuals.has(p.value),
        );
        if (removed) refuse(node, `line ${node.line} removes ${removed.value}, which the runner never installs`);
      }
    }
    if (node.keyword === "USER") {
      const user = node.args[0]?.value ?? "";
      if (user.includes("$"))
        refuse(node, `USER ${user} expands at build time; can't tell whose home gets the packages`);
      if (!isRootUser(user)) finalUsers.add(user);
    }
  }
  if (new Set([...finalUsers].map((u) => u.split(":")[0])).size > 1) {
    refuse(
      pipRun,
      `the image runs as several users (${[...finalUsers].join(", ")}); can't pick one home for the packages`,
    );
  }
  const runtimeUser = finalUsers.size > 0 ? [...finalUsers][0]! : null;
  const userName = runtimeUser?.split(":")[0] ?? null;
  const userBase = userName ? `/home/${userName}/.local` : "/root/.local";
  for (const problem of userBaseReachProblems({
    file,
    stage,
    pipRun,
    userBase,
    family,
    buildContext: options.buildContext,
  })) {
    if (problem.kind === "refuse") refuse(problem.node, problem.reason);
    unsafe.push(problem.reason);
  }

  // Where the builder stage's files come from: everything before the install.
  const pre = stage.instructions.filter((n) => n.index > stage.from.index && n.index < pipRun.index);
  const needed = neededPaths(pipFacts.pipMain, cwd);
  const copies = new Map<InstructionNode, CopyFacts>();
  for (const node of pre) {
    if (node.keyword !== "COPY" && node.keyword !== "ADD") continue;
    const place = placeAt(stage, node);
    copies.set(node, copyFacts(file.text, node, place.workdir, place.env));
  }
  const configPaths = [...PIP_CONFIG_PATHS];
  const pipConfig = pipContext.env.get("PIP_CONFIG_FILE");
  if (pipConfig !== undefined) configPaths.push(resolveIn(cwd, pipConfig));
  const verification = options.buildContext
    ? closeOverRequirements(needed, [...copies.values()], options.buildContext, cwd, pipRun)
    : null;
  const allNeeded = verification?.needed ?? needed;

  // Builder COPY plan, and which COPYs it drops or narrows.
  const lacking = new Set<InstructionNode>();
  const builderCopyText = new Map<InstructionNode, string | null>();
  const narrowedNotes: string[] = [];
  for (const [node, copy] of copies) {
    const targets = allNeeded.filter((n) => canWrite(copy, n.path));
    const config = configPaths.filter((p) => canWrite(copy, p));
    const flagsStripped = stripOwnership(file, node);
    if (targets.length === 0 && config.length === 0) {
      builderCopyText.set(node, null);
      lacking.add(node);
      narrowedNotes.push(`drops line ${node.line}`);
      continue;
    }
    const sources = targets.map((t) => narrowedSource(copy, t.path));
    if (config.length > 0 || sources.some((s) => s === null)) {
      builderCopyText.set(node, flagsStripped);
      continue;
    }
    const lines: string[] = [];
    targets.forEach((t, i) => {
      const source = sources[i]!;
      if (options.buildContext && !options.buildContext.exists(source)) return;
      const text = narrowedCopyText(copy, source, t.path, t.what !== "find-links");
      if (!lines.includes(text)) lines.push(text);
    });
    builderCopyText.set(node, lines.join(eol) || null);
    lacking.add(node);
    narrowedNotes.push(`copies only ${targets.map((t) => posix.basename(t.path)).join(", ")} from line ${node.line}`);
  }
  if (narrowedNotes.length > 0) {
    if (verification === null) {
      unsafe.push(
        `the builder ${narrowedNotes.join(" and ")}; without the build context dfopt can't check that the requirements files name no other local files`,
      );
    } else if (verification.problem) {
      unsafe.push(`the builder ${narrowedNotes.join(" and ")}; ${verification.problem}`);
    }
  }

  // The runner: instructions before the install, in order.
  const items: RunnerItem[] = [];
  const edits: Edit[] = [];
  const removedBuild = new Set<string>();
  const runtimeAdded = new Set<string>();
  const unmapped = new Set<string>();
  const excluded = new Set<string>();
  let exclusionBlockedBy: string | null = null;
  let userCreated = false;
  const noteUsers = (script: ShellScript) => {
    if (!userName) return;
    for (const command of allSimpleCommands(script.statements)) {
      if (/^(useradd|adduser)$/.test(command.name ?? "") && command.words.some((w) => w.value === userName)) {
        userCreated = true;
      }
    }
  };
  const derive = (facts: RunFacts, isPipRun: boolean) => {
    const derived = deriveRunnerRun(
      file,
      facts,
      family,
      survey,
      isPipRun,
      listsNeededAfter(survey, stage, facts.node),
      new Set(allNeeded.map((n) => n.path)),
    );
    for (const p of derived.removedBuild) removedBuild.add(p);
    for (const p of derived.runtime) runtimeAdded.add(p);
    for (const p of derived.unmapped) unmapped.add(p);
    for (const p of derived.excluded) excluded.add(p);
    exclusionBlockedBy ??= derived.exclusionBlockedBy;
    return derived;
  };

  // The builder replays RUNs before the install; one that comes after a COPY
  // the builder narrows, or after a RUN only the runner keeps, may need what
  // the builder left out.
  let builderLacks: string | null = null;
  const checkReplay = (node: InstructionNode, others: boolean) => {
    if (others && builderLacks) {
      refuse(
        node,
        `RUN at line ${node.line} runs after ${builderLacks}, which the builder leaves out, and may depend on it`,
      );
    }
  };
  for (const node of pre) {
    const moved = movedText(file, node);
    if (lacking.has(node)) builderLacks ??= `the COPY at line ${node.line}`;
    switch (node.keyword) {
      case "ARG":
      case "ENV":
      case "WORKDIR":
      case "SHELL":
      case "USER":
        items.push({
          text: ownText(file, node),
          movable: settingMovable(stage, node, userBase),
          copy: null,
          hasComments: false,
        });
        break;
      case "COPY":
      case "ADD": {
        const builderText = builderCopyText.get(node) ?? null;
        const original = ownText(file, node);
        const copy = copies.get(node)!;
        const safeDest: Movable = copy.dest !== null && destIsIndependent(copy.dest, userBase) ? "always" : "never";
        if (builderText === original) {
          items.push({ text: original, movable: safeDest, copy, hasComments: false });
        } else {
          items.push({ text: moved.text, movable: safeDest, copy, hasComments: moved.hasComments });
          edits.push(...deleteComments(file, node));
          if (builderText === null) edits.push(deleteLine(file, node));
          else edits.push({ start: node.start, end: node.end, newText: builderText });
        }
        break;
      }
      case "RUN": {
        const facts = survey.runs.get(node)!;
        if (!facts.info)
          refuse(node, `RUN at line ${node.line} can't be analysed (${facts.refusedBecause}); left as one stage`);
        const units = unitsOf(facts.info.script);
        const kinds = units?.map((u) => unitKind(u.command)) ?? [];
        const packages = kinds.some((k) => k === "install" || k === "remove" || k === "maintenance" || k === "upgrade");
        const tool = needsBuildTools(file, node, facts);
        if (tool)
          refuse(
            node,
            `line ${node.line} runs ${tool} before the install, which may need the build packages the runner leaves out`,
          );
        noteUsers(facts.info.script);
        if (packages) {
          if (!units)
            refuse(node, `RUN at line ${node.line} joins commands with || or &; the split can't take it apart`);
          checkReplay(
            node,
            kinds.some((k) => k === "other"),
          );
          const derived = derive(facts, false);
          if (derived.text !== null)
            items.push({ text: derived.text, movable: "never", copy: null, hasComments: false });
        } else if (
          units &&
          kinds.every((k) => k === "pip-tooling" || k === "cd" || k === "harmless") &&
          kinds.includes("pip-tooling")
        ) {
          items.push({ text: ownText(file, node), movable: "never", copy: null, hasComments: false });
        } else if (runnerOnly(facts.info.script)) {
          items.push({ text: moved.text, movable: "never", copy: null, hasComments: moved.hasComments });
          edits.push(deleteWhole(file, node));
          builderLacks ??= `the RUN at line ${node.line}`;
        } else {
          checkReplay(node, true);
          items.push({ text: ownText(file, node), movable: "never", copy: null, hasComments: false });
        }
        break;
      }
      case "VOLUME":
      case "ONBUILD":
        items.push({ text: moved.text, movable: "never", copy: null, hasComments: moved.hasComments });
        edits.push(deleteWhole(file, node));
        break;
      default:
        // LABEL, EXPOSE, MAINTAINER, STOPSIGNAL, HEALTHCHECK, CMD, ENTRYPOINT: metadata.
        items.push({ text: moved.text, movable: "always", copy: null, hasComments: moved.hasComments });
        edits.push(deleteWhole(file, node));
    }
  }

  // The install RUN itself: the builder keeps it (plus --user); the runner
  // keeps everything but pip and the build packages.
  checkReplay(
    pipRun,
    pipKinds.slice(0, firstPip).some((k) => k === "other"),
  );
  const pipTool = needsBuildTools(file, pipRun, pipFacts);
  if (pipTool)
    refuse(pipRun, `the pip RUN also runs ${pipTool}, which may need the build packages the runner leaves out`);
  noteUsers(pipInfo.script);
  const pipDerived = derive(pipFacts, true);

  if (userName && !userCreated && !/^\d+$/.test(userName) && !BASE_USERS[family].has(userName)) {
    refuse(pipRun, `USER ${runtimeUser} is not created before the pip install; COPY --chown needs it to exist there`);
  }
  if (unmapped.size > 0) {
    unsafe.push(
      `no runtime package is known for ${[...unmapped].join(", ")}; the runner may lack libraries they provided`,
    );
  }
  if (excluded.size > 0) checkWithoutRecommends(file, stage, survey);
  if (removedBuild.size === 0 && excluded.size === 0 && !base.fullPython) {
    // Only python3-pip's recommends made this a candidate, and they can't be left out.
    refuse(
      pipRun,
      exclusionBlockedBy
        ? `the build packages are python3-pip's recommends (${[...survey.implicitBuild].join(", ")}); the runner can't tell apt-get to leave them out because its install also names ${exclusionBlockedBy}, which dfopt can't show does not depend on them`
        : `the build packages are python3-pip's recommends (${[...survey.implicitBuild].join(", ")}), and no install the runner keeps can leave them out`,
    );
  }
  const releaseNote = releaseProblem(base, family, [...runtimeAdded]);
  if (releaseNote?.certain) refuse(pipRun, releaseNote.reason);
  if (releaseNote) unsafe.push(releaseNote.reason);
  const builderName = stage.name === "builder" ? "pip-builder" : "builder";
  let runnerImage = base.written;
  let libraries: LibrarySteps | null = null;
  if (base.fullPython) {
    if (!base.slim) refuse(stage.from, `the full image ${base.written} has no slim variant dfopt can name`);
    if (stage.instructions.some((n) => n.keyword === "SHELL")) {
      refuse(stage.from, "the stage sets SHELL; the shared-library steps for the slim runner are written for /bin/sh");
    }
    runnerImage = base.slim;
    const buildkit =
      cacheMode(options) === "mount" || file.instructions.some((n) => n.flags.some((f) => f.name === "mount"));
    libraries = librarySteps(userBase, builderName, runnerImage, buildkit, file);
    unsafe.push(
      `the runner uses ${base.slim} instead of ${base.written}: the full image's tools (git, curl, wget, compilers…) and libraries are gone, so an app that runs one of them or loads a library with ctypes/dlopen would fail; only the shared libraries the installed extensions link (ldd) are installed again`,
    );
  }

  // Builder edits: name the stage, add --user (and the user base).
  const nameArg = asNameArg(stage);
  if (nameArg) edits.push({ start: nameArg.start, end: nameArg.end, newText: builderName });
  else edits.push({ start: stage.from.args[0]!.end, end: stage.from.args[0]!.end, newText: ` AS ${builderName}` });
  for (const { call, install } of pipFacts.pipMain) {
    if (install.hasUser) continue;
    const word = call.command.words[install.installIndex]!;
    const end = fileSpan(pipRun, word).end;
    edits.push({ start: end, end, newText: " --user" });
  }
  if (userName) {
    const at = lineStart(file.text, commentsStart(file, pipRun));
    edits.push({ start: at, end: at, newText: `ENV PYTHONUSERBASE=${userBase}${eol}` });
  }

  // Runner text: FROM, the pieces before the install, the packages, the rest.
  const fromText = runnerFromText(file, stage, runnerImage);
  const copyFrom = `COPY --from=${builderName}${runtimeUser ? ` --chown=${runtimeUser}` : ""} ${userBase} ${userBase}`;
  const envLine = userName
    ? `ENV PYTHONUSERBASE=${userBase} PATH=${userBase}/bin:$PATH`
    : `ENV PATH=${userBase}/bin:$PATH`;
  const block = [
    ...(pipDerived.text !== null ? [pipDerived.text] : []),
    ...(libraries ? [libraries.runner] : []),
    copyFrom,
    envLine,
  ];
  let k = items.length;
  // The library step only runs dpkg-query and apt-get: it moves like a package install.
  const withRun = pipDerived.text !== null || libraries !== null;
  if (!withRun || pipDerived.text === null || pipDerived.movable) {
    const canFollow = (m: Movable) => m === "always" || (m === "without-run" && !withRun);
    while (k > 0 && canFollow(items[k - 1]!.movable)) k--;
    // Only the app's COPYs need to come after the packages; settings and
    // metadata keep their place before them.
    while (k < items.length && items[k]!.copy === null) k++;
  }
  const post = stage.instructions.filter((n) => n.index > pipRun.index);
  // A COPY a later `COPY . <dir>` writes again is left out. Before the
  // packages only when the block runs nothing that could read it: the
  // library step reads its list and dpkg's database, a derived install RUN
  // could read anything.
  const redundant = (item: RunnerItem, index: number) =>
    item.copy !== null &&
    !item.hasComments &&
    (index >= k || pipDerived.text === null) &&
    redundantInRunner(file, item, items.slice(index + 1), post, stage);
  const runnerItems: string[] = [];
  items.forEach((item, index) => {
    if (index === k) runnerItems.push(...block);
    if (!redundant(item, index)) runnerItems.push(item.text);
  });
  if (k === items.length) runnerItems.push(...block);
  const runnerText = [fromText, ...runnerItems].join(eol);
  const builderTail = libraries ? `${eol}${libraries.builder}` : "";
  edits.push({ start: pipRun.end, end: pipRun.end, newText: `${builderTail}${eol}${eol}${runnerText}` });

  const built = [...new Set([...removedBuild, ...excluded])].join(", ");
  const runtime =
    runtimeAdded.size > 0
      ? `only their runtime libraries (${[...runtimeAdded].join(", ")})`
      : "none of them (no runtime library beyond what it installs already)";
  const summary =
    built !== ""
      ? `${built} build the pip packages in a builder stage and the final image gets ${runtime}.`
      : `pip installs in a builder stage on the full ${base.written} image (compilers and -dev headers included) and the final image gets only the installed packages.`;
  const excludedNote =
    excluded.size > 0
      ? ` python3-pip recommends ${[...excluded].join(" and ")}, so the runner's apt-get install ends in \`${[...excluded].map((p) => `${p}-`).join(" ")}\`: a trailing - tells apt-get not to install a package.`
      : "";
  const slimNote = libraries
    ? ` The runner starts from ${runnerImage} instead of the full ${base.written}; a builder step lists the Debian packages owning the shared libraries the installed extensions link (ldd, dpkg -S), and the runner installs those ${runnerImage} lacks.`
    : "";
  const userNote = userName
    ? ` Packages go to ${userBase}, owned by ${runtimeUser}, so USER ${runtimeUser} can read them.`
    : "";
  const change: Change = {
    pass: id,
    edits: mergeAdjacentDeletions(edits),
    reason: `Builder/runner split: ${summary}${excludedNote}${slimNote}${userNote}`,
    safety: unsafe.length > 0 ? "unsafe" : "safe",
    ...(unsafe.length > 0 ? { unsafeBecause: unsafe.join("; ") } : {}),
  };
  selfCheck(file, change, pipRun);
  return change;
}

/**
 * Tools that python3-pip's recommends bring besides compilers (through
 * build-essential's dependencies and recommends: dpkg-dev, perl, patch,
 * xz-utils, bzip2, gnupg…).
 */
const RECOMMENDED_TOOLS =
  /(^|[\s"'`;&|(/\[,])(perl|patch|xz|unxz|xzcat|lzma|bzip2|bunzip2|bzcat|gpg|gpgv|gpg-agent|dirmngr|fakeroot|dpkg-[a-z]+|ar|as|ld|strip|objdump|make)(?=$|[\s"'`;&|),\]])/m;

/**
 * When the runner tells apt-get to leave python3-pip's recommends out, its
 * image also loses what they brought (perl, xz-utils, bzip2, gnupg, make,
 * netbase…). Every RUN the runner keeps must then be package-manager, user
 * and permission commands only, and CMD/ENTRYPOINT/HEALTHCHECK must not run
 * one of those tools; otherwise the pass refuses.
 */
function checkWithoutRecommends(file: ParsedDockerfile, stage: Stage, survey: Survey): void {
  const why =
    "python3-pip's recommends (build-essential, python3-dev and what they pull in) are left out of the runner";
  for (const node of stage.instructions) {
    if (node.keyword === "RUN") {
      const facts = survey.runs.get(node)!;
      const units = facts.info ? unitsOf(facts.info.script) : null;
      if (!facts.info || !units) refuse(node, `RUN at line ${node.line} can't be taken apart, and ${why}`);
      for (const unit of units) {
        const c = unit.command;
        // User setup, permissions and links need none of those tools.
        const permissions =
          c !== null && c.name !== null && (RUNNER_ONLY.has(c.name) || c.name === "ln") && c.redirects.length === 0;
        if (unitKind(c) === "other" && !permissions) {
          refuse(
            node,
            `RUN at line ${node.line} runs \`${commandText(facts.info.script, unit)}\`, which may need a tool they brought (perl, xz, bzip2, make…), and ${why}`,
          );
        }
      }
    } else if (["CMD", "ENTRYPOINT", "HEALTHCHECK", "ONBUILD"].includes(node.keyword)) {
      const tool = RECOMMENDED_TOOLS.exec(file.text.slice(node.bodyStart, node.end))?.[2];
      if (tool) refuse(node, `line ${node.line} runs ${tool}, and ${why}`);
    }
  }
}

interface LibrarySteps {
  /** The builder's RUN (with its comment) writing the package list. */
  readonly builder: string;
  /** The runner's RUN installing the listed packages the runner image lacks. */
  readonly runner: string;
}

/** Where the builder writes the list; only the builder has it (/tmp is not copied). */
const LIBRARY_LIST = "/tmp/runtime-packages.txt";

/**
 * The two steps that give a slim runner the shared libraries the packages
 * built on the full image link: in the builder, `ldd` on every shared object
 * of the user site, and `dpkg -S` on each library it resolves to a system
 * path (tried as printed and through `readlink -f`: on a merged-/usr system
 * ldd may print /lib/… while dpkg recorded /usr/lib/…, or the symlink
 * while dpkg recorded its target). Libraries inside the user site
 * (auditwheel's `.libs`) belong to no package and are copied anyway. In the
 * runner, the listed packages dpkg-query does not show as installed are
 * installed with apt-get; with none missing, apt-get (and its update) does
 * not run. Both steps are plain /bin/sh and tolerate an empty user site.
 */
function librarySteps(
  userBase: string,
  builderName: string,
  runnerImage: string,
  buildkit: boolean,
  file: ParsedDockerfile,
): LibrarySteps {
  const eol = file.eol;
  // The line continuation is the file's escape character (`# escape=\``).
  const cont = ` ${file.escapeChar}${eol}    `;
  const builder = [
    `# Debian packages owning the shared libraries the installed extensions and programs link (for the ${runnerImage} runner)`,
    `RUN find ${userBase} -type f \\( -name '*.so*' -o -perm -u+x \\) -exec ldd {} + 2>/dev/null${cont}| awk '$2 == "=>" && $3 ~ /^\\// { print $3 }' | sort -u${cont}| while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null || true; done${cont}| sed -n '/diversion/!s/: \\/.*//p' | tr ',' '\\n' | sed 's/^ *//; s/:.*//' | sort -u > ${LIBRARY_LIST}`,
  ].join(eol);
  const install = `missing=$(for p in $(cat ${LIBRARY_LIST}); do dpkg-query -W -f='\${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || echo "$p"; done)${cont}&& if [ -n "$missing" ]; then apt-get update && apt-get install -y --no-install-recommends $missing && rm -rf /var/lib/apt/lists/*; fi`;
  const comment = `# The packages of those libraries that ${runnerImage} lacks`;
  const runner = buildkit
    ? [
        comment,
        `RUN --mount=type=bind,from=${builderName},source=${LIBRARY_LIST},target=${LIBRARY_LIST}${cont}${install}`,
      ].join(eol)
    : [
        comment,
        `COPY --from=${builderName} ${LIBRARY_LIST} ${LIBRARY_LIST}`,
        `RUN ${install}${cont}&& rm -f ${LIBRARY_LIST}`,
      ].join(eol);
  return { builder, runner };
}

/**
 * True when a RUN after `node` installs packages without fetching package
 * lists itself, so it relies on an earlier `apt-get update`/`apk update`.
 */
function listsNeededAfter(survey: Survey, stage: Stage, node: InstructionNode): boolean {
  for (const later of stage.instructions) {
    if (later.index <= node.index || later.keyword !== "RUN") continue;
    const calls = survey.runs.get(later)?.calls ?? [];
    let updated = false;
    for (const call of calls) {
      if (call.subcommand === "update") updated = true;
      if (!isPackageInstall(call) || updated) continue;
      if (call.manager === "apk" && call.args.some((a) => a === "--no-cache" || a === "--update" || a === "-U"))
        continue;
      return true;
    }
  }
  return false;
}

/**
 * WORKDIR and ENV values at an instruction, with `$VAR` expanded the way
 * Docker expands them in WORKDIR/COPY (from earlier ENV of the stage).
 * The workdir is null when it expands something unknown.
 */
function placeAt(stage: Stage, node: InstructionNode): { workdir: string | null; env: Map<string, string> } {
  const env = new Map<string, string>();
  let workdir: string | null = "/";
  for (const i of stage.instructions) {
    if (i.index >= node.index) break;
    if (i.keyword === "ENV" || i.keyword === "ARG") {
      // A build argument can be overridden with --build-arg: its value is unknown.
      for (const [name, value] of envPairs(i)) {
        env.set(name, i.keyword === "ARG" ? `$${name}` : (expand(value, env) ?? `$${name}`));
      }
    } else if (i.keyword === "WORKDIR") {
      const dir = expand(i.args.map((a) => a.value).join(" "), env);
      workdir = dir === null || (workdir === null && !dir.startsWith("/")) ? null : resolveIn(workdir ?? "/", dir);
    }
  }
  return { workdir, env };
}

function isRootUser(user: string): boolean {
  const name = user.split(":")[0];
  return name === "root" || name === "0";
}

function commandText(script: ShellScript, unit: Unit): string {
  const text = script.source.slice(unit.start, unit.end).replace(/\s+/g, " ");
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function runnerOnly(script: ShellScript): boolean {
  const units = unitsOf(script);
  if (!units) return false;
  return units.every((u) => {
    const c = u.command;
    return c !== null && c.name !== null && RUNNER_ONLY.has(c.name) && c.redirects.length === 0;
  });
}

/** How freely an ENV/ARG/WORKDIR/USER/SHELL before the install can follow the copied packages. */
function settingMovable(stage: Stage, node: InstructionNode, userBase: string): Movable {
  switch (node.keyword) {
    case "ENV":
    case "ARG":
      // ENV PATH=…:$PATH after ours would order PATH differently.
      return envPairs(node).some(([name]) => ["PATH", "PYTHONUSERBASE", "HOME"].includes(name))
        ? "never"
        : "without-run";
    case "WORKDIR": {
      const place = placeAt(stage, node);
      const dir = expand(node.args.map((a) => a.value).join(" "), place.env);
      if (dir === null || place.workdir === null) return "never";
      const resolved = resolveIn(place.workdir, dir);
      // WORKDIR creates its directory: it must not be on the way to the user site.
      return isWithin(resolved, userBase) || isWithin(userBase, resolved) ? "never" : "without-run";
    }
    case "USER":
      return "without-run";
    default:
      return "never";
  }
}

/**
 * A runner destination the runner's install RUN and COPY --from can be placed
 * before: outside the user base and outside the system directories an
 * apt/apk install reads or writes.
 */
function destIsIndependent(dest: string, userBase: string): boolean {
  if (isWithin(userBase, dest) || isWithin(dest, userBase)) return false;
  const system = ["/etc", "/var", "/lib", "/lib64", "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64"];
  const more = [
    "/usr/share",
    "/usr/include",
    "/usr/local/bin",
    "/usr/local/lib",
    "/usr/local/sbin",
    "/usr/local/share",
  ];
  return [...system, ...more, "/tmp", "/run", "/proc", "/sys", "/dev"].every(
    (s) => !isWithin(dest, s) && !isWithin(s, dest),
  );
}

/**
 * A COPY that was before the install can be left out of the runner when a
 * later whole-context `COPY . <dir>` writes the same files again and nothing
 * in between (in runner order) runs a command that could read them.
 */
function redundantInRunner(
  file: ParsedDockerfile,
  item: RunnerItem,
  after: readonly RunnerItem[],
  post: readonly InstructionNode[],
  stage: Stage,
): boolean {
  if (after.some((a) => a.movable === "never")) return false;
  for (const node of post) {
    if (node.keyword === "COPY" || node.keyword === "ADD") {
      const place = placeAt(stage, node);
      if (coveredBy(item.copy!, copyFacts(file.text, node, place.workdir, place.env))) return true;
      continue;
    }
    if (node.keyword === "RUN" || node.keyword === "VOLUME" || node.keyword === "ONBUILD") return false;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Files the install reads

function neededPaths(pipMain: readonly PipCall[], cwd: string): Needed[] {
  const needed: Needed[] = [];
  const add = (p: string, what: Needed["what"]) => {
    const abs = resolveIn(cwd, p);
    if (!needed.some((n) => n.path === abs)) needed.push({ path: abs, what });
  };
  for (const { install } of pipMain) {
    for (const f of install.requirementFiles) add(f, "requirements");
    for (const f of install.constraintFiles) add(f, "constraints");
    for (const f of install.findLinks) add(f, "find-links");
    for (const f of install.localArchives) add(f, "archive");
  }
  return needed;
}

/**
 * With the build context known: read every requirements/constraints file
 * (through the COPY that put it in the image) and add the files it names.
 * Refuses when one installs a local project; reports a problem when a file
 * can't be read, so the change is marked unsafe.
 */
function closeOverRequirements(
  start: readonly Needed[],
  copies: readonly CopyFacts[],
  context: BuildContext,
  cwd: string,
  pipRun: InstructionNode,
): { needed: Needed[]; problem: string | null } {
  const needed = [...start];
  let problem: string | null = null;
  const contextPathOf = (target: string): string | null => {
    for (let i = copies.length - 1; i >= 0; i--) {
      const copy = copies[i]!;
      if (!canWrite(copy, target)) continue;
      const narrowed = narrowedSource(copy, target);
      if (narrowed !== null) {
        if (context.exists(narrowed)) return narrowed;
        continue;
      }
      const sources = copy.sources ?? [];
      if (copy.from === null && copy.destIsDir && copy.dest !== null) {
        const match = sources.find(
          (s) => !/[*?[\]$]/.test(s) && posix.join(copy.dest!, posix.basename(s)) === target && context.exists(s),
        );
        if (match) return posix.normalize(match);
      }
      return null;
    }
    return null;
  };
  for (let i = 0; i < needed.length && i < 50; i++) {
    const item = needed[i]!;
    if (item.what !== "requirements" && item.what !== "constraints") continue;
    const contextPath = contextPathOf(item.path);
    const text = contextPath === null ? null : context.readText(contextPath);
    if (text === null) {
      problem ??= `dfopt could not read ${item.path} from the build context to check what it names`;
      continue;
    }
    const refs = requirementsRefs(text);
    if (refs.problem)
      refuse(pipRun, `${posix.basename(item.path)}: ${refs.problem}; the builder would need the whole source`);
    const dir = posix.dirname(item.path);
    const add = (p: string, what: Needed["what"]) => {
      const abs = resolveIn(dir, p);
      if (!needed.some((n) => n.path === abs)) needed.push({ path: abs, what });
    };
    for (const f of refs.requirementFiles) add(f, "requirements");
    for (const f of refs.constraintFiles) add(f, "constraints");
    for (const f of refs.findLinks) {
      // pip takes a find-links path relative to the requirements file when it
      // exists there, else relative to the working directory.
      const nearFile = resolveIn(dir, f);
      const viaFile = contextPathOf(nearFile);
      const abs = viaFile !== null ? nearFile : resolveIn(cwd, f);
      if (!needed.some((n) => n.path === abs)) needed.push({ path: abs, what: "find-links" });
    }
  }
  return { needed, problem };
}

// ---------------------------------------------------------------------------
// The runner's version of a RUN that installs build packages

interface Derived {
  /** The runner's RUN, or null when nothing of it is needed there. */
  readonly text: string | null;
  /** Only package-manager commands: can run before the app's COPY. */
  readonly movable: boolean;
  readonly removedBuild: readonly string[];
  readonly runtime: readonly string[];
  readonly unmapped: readonly string[];
  /** python3-pip's recommended build packages the runner's install tells apt-get to leave out. */
  readonly excluded: readonly string[];
  /** A kept package that might depend on them, so they could not be left out; null when none. */
  readonly exclusionBlockedBy: string | null;
}

function deriveRunnerRun(
  file: ParsedDockerfile,
  facts: RunFacts,
  family: DistroFamily,
  survey: Survey,
  isPipRun: boolean,
  listsNeededLater: boolean,
  /** Absolute paths pip reads (requirements, find-links): context bind mounts there served only pip. */
  pipReads: ReadonlySet<string>,
): Derived {
  const node = facts.node;
  const logical = node.shell!.logical;
  const script = facts.info!.script;
  const units = unitsOf(script)!;
  const kinds = units.map((u) => unitKind(u.command));
  const drop = units.map(() => false);
  const edits: Edit[] = [];
  const removedBuild: string[] = [];
  const unmapped: string[] = [];
  const runtimeNeeded: string[] = [];
  /** Kept units whose last words are dropped: where they now end (logical offset). */
  const newEnd = new Map<number, number>();
  const keptPackages = new Set<string>();
  const fullyDropped: number[] = [];
  /** Package words each install unit drops (by word index). */
  const droppedOf = new Map<number, ReadonlySet<number>>();
  const pipFirst = isPipRun ? kinds.indexOf("pip-main") : Infinity;

  // Package commands inside if/for/subshells can't be rewritten word by word.
  for (const call of facts.calls) {
    if ((isPackageInstall(call) || isPackageRemoval(call)) && !units.some((u) => u.command === call.command)) {
      const words = packageWords(call);
      if (words.packages.some((p) => classifyPackage(family, p.value).kind !== "other")) {
        refuse(node, `RUN at line ${node.line} installs build packages inside a compound command; left as one stage`);
      }
    }
  }

  /**
   * Drop words of a kept command. Words before its last kept word go one by
   * one; a dropped tail goes as one range from the last kept word, so the
   * continuation before it goes too and the command ends cleanly.
   */
  const dropWords = (unitIndex: number, command: SimpleCommand, dropped: ReadonlySet<number>): number => {
    let lastKept = command.words.length - 1;
    while (lastKept >= 0 && dropped.has(lastKept)) lastKept--;
    for (const index of dropped) {
      if (index < lastKept) edits.push(dropWord(file, node, command.words[index]!));
    }
    if (lastKept < command.words.length - 1) {
      const keptEnd = command.words[lastKept]!.end;
      const droppedEnd = command.words[command.words.length - 1]!.end;
      edits.push({ start: logical.fileOffsets[keptEnd]!, end: logical.fileOffsets[droppedEnd - 1]! + 1, newText: "" });
      // A redirect after the dropped words still belongs to the command.
      newEnd.set(unitIndex, command.redirects.some((r) => r.start >= droppedEnd) ? units[unitIndex]!.end : keptEnd);
    }
    return lastKept;
  };

  units.forEach((unit, i) => {
    const kind = kinds[i]!;
    const command = unit.command;
    if (kind === "pip-main") {
      if (isPipRun) drop[i] = true;
      return;
    }
    if (kind !== "install" && kind !== "remove") return;
    if (kind === "install" && isPipRun && i > pipFirst) return;
    const call = packageCall(command!)!;
    const words = packageWords(call);
    if (words.dynamic)
      refuse(node, `package list word ${words.dynamic} expands at build time; can't tell build packages apart`);
    const dropped = new Set<number>();
    for (const p of words.packages) {
      if (kind === "remove") {
        if (survey.buildPackages.has(packageName(p.value)) || survey.buildVirtuals.has(p.value)) dropped.add(p.index);
        continue;
      }
      const role = classifyPackage(family, p.value);
      if (role.kind === "other") {
        keptPackages.add(packageName(p.value));
        continue;
      }
      dropped.add(p.index);
      removedBuild.push(packageName(p.value));
      if (role.kind === "build") runtimeNeeded.push(...role.runtime);
      else unmapped.push(packageName(p.value));
    }
    if (kind === "install") droppedOf.set(i, dropped);
    if (dropped.size === 0) return;
    if (dropped.size === words.packages.length) {
      drop[i] = true;
      if (kind === "install") fullyDropped.push(i);
      return;
    }
    dropWords(i, command!, dropped);
  });

  /** Text to insert after a kept word (file offset → text), so two additions to one command stay in order. */
  const inserts = new Map<number, string>();
  const insertAfter = (command: SimpleCommand, anchor: number, text: string) => {
    const at = fileSpan(node, command.words[anchor]!).end;
    inserts.set(at, (inserts.get(at) ?? "") + text);
  };
  const lastKept = (command: SimpleCommand, dropped: ReadonlySet<number>) => {
    let anchor = command.words.length - 1;
    while (anchor >= 0 && dropped.has(anchor)) anchor--;
    return anchor;
  };

  // Runtime libraries go into a kept install of the RUN, or into the first
  // install that only had build packages (its --virtual name dropped).
  const runtime = [...new Set(runtimeNeeded)].filter((p) => !keptPackages.has(p));
  if (runtime.length > 0) {
    const target = units.findIndex((u, i) => {
      if (drop[i] || kinds[i] !== "install" || (isPipRun && i > pipFirst)) return false;
      return packageWords(packageCall(u.command!)!).virtualName === null;
    });
    let anchor: number;
    let command: SimpleCommand;
    if (target >= 0) {
      command = units[target]!.command!;
      anchor = lastKept(command, droppedOf.get(target) ?? new Set());
    } else {
      const unitIndex = fullyDropped[0] ?? -1;
      if (unitIndex < 0) refuse(node, "no install command in the RUN to put the runtime libraries in");
      drop[unitIndex] = false;
      command = units[unitIndex]!.command!;
      const words = packageWords(packageCall(command)!);
      anchor = dropWords(unitIndex, command, new Set([...words.packages.map((p) => p.index), ...words.virtualWords]));
    }
    insertAfter(command, anchor, ` ${runtime.join(" ")}`);
  }

  // A kept `apt-get install python3-pip` with recommends would install
  // build-essential and python3-dev in the runner again: a trailing `-`
  // tells apt-get not to install a package (apt-get(8)), and a package that
  // is only recommended is then skipped. Only when nothing the command
  // installs depends on them, or apt-get would fail instead.
  const excluded = new Set<string>();
  let exclusionBlockedBy: string | null = null;
  units.forEach((unit, i) => {
    if (drop[i] || kinds[i] !== "install" || (isPipRun && i > pipFirst)) return;
    const call = packageCall(unit.command!)!;
    if (!installsRecommends(file, call)) return;
    const dropped = droppedOf.get(i) ?? new Set<number>();
    const kept = packageWords(call).packages.filter((p) => !dropped.has(p.index));
    if (!kept.some((p) => isAptPip(p.value))) return;
    const blocker = kept.find((p) => !installsWithoutBuildPackages(p.value));
    if (blocker) {
      exclusionBlockedBy ??= packageName(blocker.value);
      return;
    }
    const names = PIP_RECOMMENDED_BUILD.filter((p) => !kept.some((k) => packageName(k.value) === p));
    for (const p of names) excluded.add(p);
    insertAfter(unit.command!, lastKept(unit.command!, dropped), ` ${names.map((p) => `${p}-`).join(" ")}`);
  });
  for (const [at, text] of inserts) edits.push({ start: at, end: at, newText: text });

  // `apt-get update`, cleanup, `cd` only served the dropped installs when
  // the RUN had one and no later RUN installs with the lists it fetched.
  const substantive = units.some(
    (_, i) => !drop[i] && !["maintenance", "cd", "harmless", "pip-main"].includes(kinds[i]!),
  );
  const hadInstall = kinds.includes("install");
  if (!substantive && hadInstall && !listsNeededLater) {
    units.forEach((_, i) => (drop[i] = drop[i] || kinds[i] === "maintenance" || kinds[i] === "cd"));
  }
  const unitEdits = dropUnits(
    node,
    units.map((u, i) => (newEnd.has(i) ? { ...u, end: newEnd.get(i)! } : u)),
    drop,
  );
  const extra = { excluded: [...excluded], exclusionBlockedBy };
  if (unitEdits === null) return { text: null, movable: true, removedBuild, runtime, unmapped, ...extra };
  edits.push(...unitEdits);
  const pipLeft = units.some((_, i) => !drop[i] && (kinds[i] === "pip-main" || kinds[i] === "pip-tooling"));
  if (!pipLeft) {
    for (const flag of node.flags) {
      if (flag.name !== "mount") continue;
      const target = flag.options.get("target") ?? flag.options.get("dst") ?? flag.options.get("destination") ?? "";
      const pipCache = /\.cache\/pip/.test(target);
      // manifest-first-copy's `--mount=type=bind,source=vendor,target=<dir>/vendor` for the install.
      const pipInput = flag.options.get("type") === "bind" && !flag.options.has("from") && pipReads.has(target);
      if (pipCache || pipInput) {
        let from = flag.start;
        while (from > node.start && (file.text[from - 1] === " " || file.text[from - 1] === "\t")) from--;
        edits.push({ start: from, end: flag.end, newText: "" });
      }
    }
  }
  const text = editedText(file, node, mergeAdjacentDeletions(edits));
  const movable = units.every(
    (_, i) => drop[i] || ["install", "remove", "maintenance", "upgrade", "pip-tooling"].includes(kinds[i]!),
  );
  return { text, movable, removedBuild, runtime, unmapped, ...extra };
}

/** Union of overlapping deletions (two word drops on one line, a word drop inside a dropped tail). */
function mergeAdjacentDeletions(edits: readonly Edit[]): Edit[] {
  const inserts = edits.filter((e) => e.start === e.end);
  const deletions = edits.filter((e) => e.start !== e.end).sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Edit[] = [];
  for (const d of deletions) {
    const last = merged[merged.length - 1];
    if (last && d.start < last.end && last.newText === "" && d.newText === "") {
      merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, d.end), newText: "" };
    } else {
      merged.push(d);
    }
  }
  return [...merged, ...inserts];
}

// ---------------------------------------------------------------------------
// Text helpers

function lineStart(text: string, offset: number): number {
  let i = offset;
  while (i > 0 && text[i - 1] !== "\n") i--;
  return i;
}

/** Offset where the instruction's own comment block (the lines right above it) starts. */
function commentsStart(file: ParsedDockerfile, node: InstructionNode): number {
  let start = node.start;
  let line = node.line;
  const byLine = new Map(file.comments.map((c) => [c.line, c]));
  while (byLine.has(line - 1)) {
    const comment = byLine.get(line - 1)!;
    if (file.instructions.some((i) => i.index < node.index && i.end > comment.start)) break;
    start = comment.start;
    line--;
  }
  return start;
}

/** The instruction with its comment block, for moving it to the runner. */
function movedText(file: ParsedDockerfile, node: InstructionNode): { text: string; hasComments: boolean } {
  const from = lineStart(file.text, commentsStart(file, node));
  const instructionLine = lineStart(file.text, node.start);
  return { text: file.text.slice(from, node.end), hasComments: from < instructionLine };
}

function ownText(file: ParsedDockerfile, node: InstructionNode): string {
  return file.text.slice(node.start, node.end);
}

function lineEndAfter(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && text[i] !== "\n") i++;
  return i < text.length ? i + 1 : i;
}

/**
 * Delete the instruction, its comment block and its line break; when blank
 * lines surround it, one of them goes too, so no double gap is left behind.
 */
function deleteWhole(file: ParsedDockerfile, node: InstructionNode): Edit {
  const text = file.text;
  const start = lineStart(text, commentsStart(file, node));
  let end = lineEndAfter(text, node.end);
  const nextLine = text.slice(end, lineEndAfter(text, end));
  if (start > 0 && isBlankLine(text, start - 1) && /^[ \t]*\r?\n$/.test(nextLine)) end += nextLine.length;
  return { start, end, newText: "" };
}

/** True when the line ending at `newline` (the offset of its \n) holds only blanks. */
function isBlankLine(text: string, newline: number): boolean {
  const from = lineStart(text, newline);
  return /^[ \t\r]*$/.test(text.slice(from, newline));
}

function deleteLine(file: ParsedDockerfile, node: InstructionNode): Edit {
  return { start: lineStart(file.text, node.start), end: lineEndAfter(file.text, node.end), newText: "" };
}

function deleteComments(file: ParsedDockerfile, node: InstructionNode): Edit[] {
  const from = lineStart(file.text, commentsStart(file, node));
  const to = lineStart(file.text, node.start);
  return from < to ? [{ start: from, end: to, newText: "" }] : [];
}

/** The COPY as the builder runs it: without --chown/--chmod (the user need not exist there; root reads anything). */
function stripOwnership(file: ParsedDockerfile, node: InstructionNode): string {
  let text = "";
  let cursor = node.start;
  for (const flag of node.flags) {
    if (flag.name !== "chown" && flag.name !== "chmod") continue;
    let from = flag.start;
    while (from > cursor && (file.text[from - 1] === " " || file.text[from - 1] === "\t")) from--;
    text += file.text.slice(cursor, from);
    cursor = flag.end;
  }
  return text + file.text.slice(cursor, node.end);
}

/** The `AS name` argument of the stage's FROM, if any. */
function asNameArg(stage: Stage) {
  const args = stage.from.args;
  const i = args.findIndex((a) => a.value.toUpperCase() === "AS");
  return i >= 0 ? (args[i + 1] ?? null) : null;
}

function runnerFromText(file: ParsedDockerfile, stage: Stage, image: string): string {
  const node = stage.from;
  const imageArg = node.args[0]!;
  const text = file.text.slice(node.start, imageArg.start) + image + file.text.slice(imageArg.end, node.end);
  return asNameArg(stage) ? text : `${text} AS runner`;
}

/** The change must give a file that parses, with the runner's RUNs still shell. */
function selfCheck(file: ParsedDockerfile, change: Change, pipRun: InstructionNode): void {
  let out: string;
  try {
    const sorted = [...change.edits].sort((a, b) => a.start - b.start || a.end - b.end);
    let text = "";
    let cursor = 0;
    for (const e of sorted) {
      if (e.start < cursor) refuse(pipRun, "internal: overlapping edits; left as one stage");
      text += file.text.slice(cursor, e.start) + e.newText;
      cursor = e.end;
    }
    out = text + file.text.slice(cursor);
  } catch (error) {
    if (error instanceof Refusal) throw error;
    refuse(pipRun, "internal: could not apply the split; left as one stage");
  }
  let parsed: ParsedDockerfile;
  try {
    parsed = parseDockerfile(out);
  } catch {
    refuse(pipRun, "internal: the split does not parse; left as one stage");
  }
  const broken = parsed.instructions.filter((i) => i.shell && !i.shell.parse.ok).length;
  const before = file.instructions.filter((i) => i.shell && !i.shell.parse.ok).length;
  if (parsed.stages.length !== 2 || broken > before) {
    refuse(pipRun, "internal: the split does not give two parseable stages; left as one stage");
  }
}
