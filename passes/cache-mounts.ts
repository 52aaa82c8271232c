import { parseUserAdd } from "./lib/user-add.js";
import type { InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import type { ShellScript, SimpleCommand } from "../src/shell.js";
import { allSimpleCommands } from "../src/shell-facts.js";
import { parseShell } from "../src/shell.js";
import { memoByFile, memoByObject, runPass } from "../src/memo.js";
import { contextAt, homeOf, isPosixShell } from "../src/stage-facts.js";
import type { Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import {
  CACHE_SPECS,
  type CacheId,
  type CacheSpec,
  type DirContext,
  normalizePath,
  pathRelation,
  resolveCacheDirs,
} from "./lib/cache-dirs.js";
import { alpineToDebian } from "./alpine-to-debian.js";
import { chainRuns } from "./chain-runs.js";
import { cacheMode } from "./lib/cache-mode.js";
import { isWindowsImage } from "./lib/windows-base.js";
import {
  cacheCreations,
  cacheTouches,
  callUsesCache,
  enclosingTop,
  opaqueCommands,
  removalRefusal,
  removeAssignmentEdit,
  removeCommands,
  runsUnconditionally,
  toolCall,
  toolCalls,
  type PathContext,
  type ToolCall,
} from "./lib/cache-mount-shell.js";
import { insertRunFlag, removeWordOrLine, replaceSpan } from "./lib/runs.js";

const id = "cache-mounts";

/** What makes apt keep the .debs it downloads (guide 001, Docker's RUN --mount example). */
const DOCKER_CLEAN = "rm -f /etc/apt/apt.conf.d/docker-clean";
const KEEP_CACHE = `echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' > /etc/apt/apt.conf.d/keep-cache`;

const archivesSpec = CACHE_SPECS.find((s) => s.id === "apt-archives")!;

const TOOL_MENTION =
  /(^|[\s;&|(])(pip[0-9.]*|python[0-9.]*\s+-m\s+pip|uv|poetry|apt-get|apt|apk|npm|yarn|pnpm|go|cargo)\s+[a-z-]/;

/**
 * BuildKit cache mounts for package managers. The table of tools and their
 * cache directories is passes/lib/cache-dirs.ts; the shell-tree analysis
 * (which calls use a cache, which cleanups may leave their chain) is
 * passes/lib/cache-mount-shell.ts; this module decides per RUN, from the
 * stage family's USER/ENV/WORKDIR, and writes the edits.
 */
export const cacheMounts: Pass = {
  meta: {
    id,
    title: "BuildKit cache mounts for package managers",
    summary:
      "Keep pip/uv/poetry/apt/apk/npm/yarn/pnpm/go/cargo download caches in RUN --mount=type=cache and drop the cleanup that empties them",
    defaultEnabled: true,
    hadolintRules: ["DL3042", "DL3019", "DL3009"],
    doc: `## What it does
Adds a BuildKit cache mount for each package manager a \`RUN\` calls, at the
directory that tool really uses for the user the RUN runs as, and removes in
the same change what would bypass or empty it:

| tool (calls) | mounted directory (root, defaults) | removed with it |
| --- | --- | --- |
| pip (\`install\`, \`download\`, \`wheel\`; \`pip3\`, \`python -m pip\`) | \`/root/.cache/pip\` | \`--no-cache-dir\` (and its abbreviations), \`PIP_NO_CACHE_DIR=… pip\`, \`pip cache purge\`, \`rm -rf\` of the directory |
| uv (\`pip\`, \`sync\`, \`add\`, \`lock\`, \`run\`…) | \`/root/.cache/uv\` | \`--no-cache\`/\`-n\`, \`UV_NO_CACHE=…\` |
| poetry (\`install\`, \`add\`, \`update\`, \`lock\`) | \`/root/.cache/pypoetry/cache\` and \`…/artifacts\` | \`--no-cache\`, \`poetry cache clear\` |
| apt-get / apt / apt-cache | \`/var/cache/apt\` (\`sharing=locked\`) | \`apt-get clean\`, \`rm -rf /var/cache/apt/…\` |
| apt-get update | \`/var/lib/apt/lists\` (\`sharing=locked\`) | \`rm -rf /var/lib/apt/lists/*\` |
| apk (\`add\`, \`upgrade\`, \`update\`, \`fix\`, \`fetch\`) | \`/var/cache/apk\` and \`/etc/apk/cache\` | \`--no-cache\` (becomes \`--update-cache\`), \`rm -rf /var/cache/apk/*\` |
| npm (\`install\`, \`ci\`, \`update\`…) | \`/root/.npm\` | \`npm cache clean --force\` |
| yarn 1 (\`install\`, \`add\`) | \`/usr/local/share/.cache/yarn\` (root), \`~/.cache/yarn\` | \`yarn cache clean\` |
| pnpm | \`$PNPM_HOME/store\` (or \`store-dir\`) | \`pnpm store prune\` |
| go (\`build\`, \`test\`, \`install\`, \`run\`, \`vet\`) | \`/root/.cache/go-build\` | \`go clean -cache\` |
| go (module-aware commands) | \`/go/pkg/mod\` (\`$GOPATH/pkg/mod\`) | \`go clean -modcache\` |
| cargo | \`$CARGO_HOME/registry\` and \`$CARGO_HOME/git\` | \`rm -rf\` of them |

\`PIP_CACHE_DIR\`, \`UV_CACHE_DIR\`, \`POETRY_CACHE_DIR\`, \`XDG_CACHE_HOME\`,
\`npm_config_cache\`, \`YARN_CACHE_FOLDER\`, \`GOCACHE\`, \`GOMODCACHE\`,
\`GOPATH\`, \`CARGO_HOME\`, \`HOME\` (ENV or a \`VAR=… cmd\` prefix) and the
tools' own \`--cache-dir\`-style flags move the mount with them. \`USER\` moves
per-user caches to that user's home.

For apt, the first RUN of a stage that gets an apt mount also runs
\`${DOCKER_CLEAN} && ${KEEP_CACHE} &&\` right before its first apt command:
the stock Debian/Ubuntu images' \`docker-clean\` deletes every downloaded
.deb and turns off \`pkgcache.bin\`, which makes the mount useless. It is
prepended to that RUN (not a separate RUN) so it runs as the same user as
apt, and the result is the same whether chain-runs merges RUNs before or
after. It is added once per stage family (a stage built \`FROM\` another
inherits it), only when every later apt RUN of the stage gets the mount too
(otherwise their layers would keep .debs and \`pkgcache.bin\`).

A RUN that already has cache mounts keeps them; missing ones are added after
them (in the order the RUN first uses each tool), a target is never mounted
twice, and a mount at a parent directory (\`/root/.cache\`) counts as
covering the tool's directory. A non-root \`USER\` with a known uid gets
\`uid=\` (and \`gid=\` from \`USER uid:gid\`) on the mount.

A RUN that chain-runs is about to merge, or alpine-to-debian to convert, in
the same round is left for the next round, so its mounts are computed from
what it has become: the result does not depend on which pass runs first.

## Why
A cache mount survives between builds but is never part of the image, so a
rebuild after a requirements change downloads only what changed, and the
image stays as small as with \`--no-cache-dir\`/\`--no-cache\`/list cleanup,
which are pointless (or harmful: they empty the cache) once the mount exists.
Guides 000/001/002 recommend exactly this, and say to "disable anything that
would delete the cache".

## Example
\`\`\`dockerfile
RUN apt-get update && apt-get install -y --no-install-recommends curl \\
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir -r requirements.txt
\`\`\`
becomes
\`\`\`dockerfile
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked ${DOCKER_CLEAN} && ${KEEP_CACHE} && apt-get update && apt-get install -y --no-install-recommends curl
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
\`\`\`

## Requirements
BuildKit: the default builder since Docker 23.0; on Docker 18.09–22.x set
\`DOCKER_BUILDKIT=1\`. \`RUN --mount\` is part of the stable Dockerfile syntax
since docker/dockerfile 1.2, which the builder of Docker 20.10 and later has
built in, so no \`# syntax=\` line is needed — and none is added: a
\`# syntax=\` line makes every build pull that frontend image from a registry
first, which fails offline and in air-gapped builds. With the legacy builder
(\`DOCKER_BUILDKIT=0\`) a \`--mount\` flag is a build error.

## Safety
Safe: the mount only changes where the tool keeps its cache, and a cache
is re-filled by downloading. Removals are proven from the shell tree:
a cleanup command is taken out of its chain only when it runs alone at top
level joined by \`&&\` on both sides (\`a && rm -rf x && b\` → \`a && b\`),
never in an \`||\` branch, in \`if\`/subshells, in the background, as the
RUN's last statement after \`;\` (its exit status would change) or when a
comment line would go with it; an \`rm\` that also removes other paths loses
only the cached path words. A cleanup that can't be removed is left in place
when it only empties the cache (\`rm -rf /var/lib/apt/lists/*\`), and the
mount is not added when leaving it would fail the RUN (\`rm -rf\` of the
mount point or a parent of it fails with "Device or resource busy").
With --unsafe an \`rm\` of a parent that holds only caches (\`~/.cache\`,
\`/var/cache\`) is dropped instead (the rest of that directory stays in the
image); a parent that holds more (\`rm -rf /go\`: all of GOPATH) never is.

Not mounted (reported as skipped):
- exec-form or heredoc RUNs, RUNs that don't parse, RUNs under a non-POSIX
  \`SHELL\`, Windows images;
- a cache whose directory can't be known: \`USER\` or ENV only known at build
  time, a numeric \`USER\` without HOME, \`pnpm\` without an explicit store,
  Go without \`GOPATH\` on a non-golang image, cargo without \`CARGO_HOME\`;
- a named non-root \`USER\` whose uid is unknown (the mount would be owned by
  root and not writable);
- a tool the stage uses offline (\`--offline\`, \`--frozen\`, \`GOPROXY=off\`,
  \`pnpm fetch\`), whose files an earlier layer put there and a mount would
  hide; a cache \`COPY --from\` copies out of the stage; a tool the image runs
  at run time from that cache (\`npx\`, \`go run\`, \`uvx\`);
- a RUN that works on the cache directory itself (\`ls\`, \`tar\`, \`find -delete\`,
  an \`rm\` on a path it can't resolve);
- a RUN that creates the mount point or one of its parents: BuildKit creates
  them before the command runs, so \`mkdir /go\` (without \`-p\`) fails with
  "File exists", \`git clone URL /go\` fails on a non-empty directory,
  \`ln -s X /go\` links inside it, \`mv\`/\`cp\`/\`tar -C\` into it walk it, and
  \`useradd -m\` of that home skips /etc/skel and leaves it owned by root.
  This is checked on the RUN as it is when the pass sees it, so also on a RUN
  chain-runs has just merged (\`RUN mkdir /go\` chained before \`go build\`);
- a cache an earlier \`COPY\`/\`ADD\` (also \`--from\`, also in an ancestor
  stage) writes into, or over (a parent directory, when the source may be a
  directory; \`/\` only for \`COPY --from\`): the mount would hide those files;
  apt's archives when the RUN only downloads .debs (\`--download-only\`,
  \`apt-get download\`) and a later instruction reads \`/var/cache/apt\`;
- pip when a pip config file may set its cache directory: \`ENV
  PIP_CONFIG_FILE\`, a copied \`pip.conf\`/\`pip.ini\`, \`pip config set
  …cache-dir\`/\`pip config edit\`, or a config written from something other
  than a literal \`echo\`/\`printf\` without "cache" (the cache location is
  then unknown, as with \`PIP_CACHE_DIR\` only known at build time);
- apk with another root or cache directory (\`-p\`/\`--root\`, \`--cache-dir\`,
  \`--keys-dir\`, \`--repositories-file\`): apk keeps its cache and index under
  that root, not under the mount, so \`--no-cache\` stays (replacing it would
  write the index into, say, the \`/out\` a \`FROM scratch\` image copies);
- \`ENV PIP_NO_CACHE_DIR\` (any value) or \`ENV UV_NO_CACHE\`: the ENV is removed
  (a separate change) when every RUN it affects gets the mount; unsafe when
  the ENV reaches the final image (\`docker run … pip install\` and child
  images would cache again);
- apt lists when the RUN installs before its own \`apt-get update\`, or when
  a later RUN (or an \`ONBUILD RUN\`, which runs in images built FROM this
  one) installs without \`apt-get update\` (or runs a script, or a
  command only known at build time, that might) and relies on the lists this
  RUN leaves in the layer (unless this RUN deletes them anyway) — apt does
  not fetch missing lists by itself, so that install would fail;
- the apk index (\`/var/cache/apk\`), by the same rule: not mounted on a RUN
  whose \`apk add\`/\`upgrade\`/… reads an index an earlier layer left (no
  \`-U\`, \`--no-cache\` or \`apk update\` before it — the mount would hide
  that index), nor on a RUN that leaves an index in the image (\`apk update\`,
  \`apk add -U\` without \`--no-cache\`) when a later RUN, an \`ONBUILD RUN\`
  or a stage built on it may read it (\`sh -c "apk add x"\`, exec form, a
  script); a RUN that runs a script before its own refresh is not mounted
  when an earlier RUN of the stage left an index;
- the docker-clean recipe when a later RUN of the stage surely runs apt
  without the mount (\`$APT_INST curl\`, \`sh -c 'apt-get …'\`, exec form,
  \`ONBUILD RUN apt-get …\`): its layer would keep .debs and \`pkgcache.bin\`.

Only \`/var/lib/apt/lists\` is mounted, not \`/var/lib/apt\` as in Docker's
example: \`/var/lib/apt/extended_states\` records which packages were
installed automatically; in a cache shared by every build it would let
\`apt-get autoremove\` remove packages this image needs.

apk: \`--no-cache\` becomes \`--update-cache\` (plain removal when the RUN
already runs \`apk update\`/\`-U\`), so the index stays as fresh as with
\`--no-cache\`. The BuildKit of Docker 20.10 leaves each mount point as an
empty root-owned directory in the image; an empty \`/etc/apk/cache\` makes a
later \`apk add\` without \`--no-cache\` (in a child image, or in a
container) keep its packages.

Layers that only prefetch (\`go mod download\`, \`cargo fetch\` without
\`--offline\` later) no longer carry the downloads: the later RUNs get the
same mount and find them there, or download again when the cache is empty
(a CI runner that imports the layer cache but not the cache mounts). With the
BuildKit of Docker 20.10, \`docker build --no-cache\` also starts with empty
cache mounts.

Unsafe (applied only with \`--unsafe\`):
- a non-root \`USER\` with a known uid (numeric, or from \`useradd -u\`): the
  mount gets \`uid=\`, but BuildKit creates missing parent directories of the
  mount point (\`~/.cache\`) owned by root, and they stay in the image, where
  the user may later fail to write;
- dropping an \`rm -rf\` of a parent of the cache (\`rm -rf /root/.cache\`), which
  would fail on the mount point: files it deleted besides the cache stay.

Two effects outlive the build and are accepted (documented, not changed):
- **The pip cache is shared by every build on the builder.** The mount has
  no \`id=\`, so its id is the target path: every stage of every Dockerfile
  built on that builder shares one \`/root/.cache/pip\`. pip keys the wheels
  it builds from an sdist (\`psycopg2\`, \`mysqlclient\`, \`uwsgi\`, git URLs,
  \`--no-binary\`, \`CFLAGS=… pip install\`) by the source URL and the
  interpreter's wheel tags (\`cp311-linux_x86_64\`), not by the system
  libraries it linked against. A wheel built on one base image (say libpq5
  and libssl3 of Debian 12) can then be installed on another base with the
  same Python but other library versions, where it fails at import or run
  time. \`--no-cache-dir\` had guaranteed a build from source in the image
  itself. Deriving \`id=\` from the base image name would not fix it either
  (a tag moves to new library versions), so no rewrite is attempted: build
  such images on separate builders, or give the mount an \`id=\` per base
  image yourself.
- **docker-clean stays removed in the image.** \`rm -f
  /etc/apt/apt.conf.d/docker-clean\` and the new \`keep-cache\` file are part
  of the image: apt run later in a container, an \`ONBUILD RUN apt-get …\`,
  and every image built \`FROM\` this one keep downloaded .debs and
  \`pkgcache.bin\` in their layers unless they use apt cache mounts too
  (this pass adds them there). It is Docker's own documented recipe; setting
  the options only for the RUN (\`apt-get -o
  APT::Keep-Downloaded-Packages=true -o Dir::Cache::pkgcache=…\`) would have
  to reach every apt call, including those in scripts, so it is not done.

The base image's default user is assumed to be root when the stage sets no
\`USER\`, except for a few well-known non-root images (jenkins, ocaml/opam,
jupyter, bitnami…), where per-user caches and apt/apk are left alone. Images built \`FROM\` this one must run \`apt-get update\` before
installing: the lists are no longer in the image.

## References
- guide 000 (cache mount, "no need to delete any files"), guide 001 (pip, apk
  \`/var/cache/apk\` + \`/etc/apk/cache\`, apt \`docker-clean\` /
  \`Keep-Downloaded-Packages\` recipe, \`sharing=locked\`), guide 002
  (\`RUN --mount=type=cache,target=/root/.cache/pip\`, BuildKit versions)
- Dockerfile reference, RUN --mount=type=cache: https://docs.docker.com/reference/dockerfile/#run---mounttypecache
- Docker build cache optimization: https://docs.docker.com/build/cache/optimize/#use-cache-mounts
- hadolint DL3042 (pip --no-cache-dir), DL3019 (apk --no-cache), DL3009 (delete the apt lists)
- pip caching: https://pip.pypa.io/en/stable/topics/caching/
- Alpine wiki, Local APK cache: https://wiki.alpinelinux.org/wiki/Local_APK_cache
`,
  },
  run(file, options) {
    return runCacheMounts(file, options);
  },
};

/* ------------------------------------------------------------------ */
/* Stage facts                                                         */
/* ------------------------------------------------------------------ */

interface StageInfo {
  readonly stage: Stage;
  /** Stages this one builds on, outermost first. */
  readonly ancestors: readonly Stage[];
  readonly descendants: readonly Stage[];
  /** The external image at the root of the chain, lower-case, or null. */
  readonly baseImage: string | null;
  readonly windows: boolean;
}

function stageInfos(file: ParsedDockerfile): StageInfo[] {
  const parentOf = (s: Stage): Stage | undefined => {
    const image = s.image.toLowerCase();
    return file.stages.find((o) => o.index < s.index && (o.name === image || String(o.index) === image));
  };
  const globals = new Map<string, string>();
  for (const i of file.instructions) {
    if (i.stage !== -1 || i.keyword !== "ARG") continue;
    for (const p of properties(file, i)) if (p.value !== null) globals.set(p.name, p.value);
  }
  const infos: StageInfo[] = file.stages.map((stage) => {
    const ancestors: Stage[] = [];
    for (let p = parentOf(stage); p && !ancestors.includes(p); p = parentOf(p)) ancestors.unshift(p);
    const root = ancestors[0] ?? stage;
    let image: string | null = root.image;
    if (image.includes("$")) {
      let unknown = false;
      image = image.replace(/\$\{?([A-Za-z_]\w*)(:-([^}]*))?\}?/g, (_m, name: string, _d?: string, def?: string) => {
        const v = globals.get(name) ?? def;
        if (v === undefined) unknown = true;
        return v ?? "";
      });
      if (unknown) image = null;
    }
    const lower = image?.toLowerCase() ?? null;
    return { stage, ancestors, descendants: [], baseImage: lower, windows: lower !== null && isWindowsImage(lower) };
  });
  return infos.map((info) => ({
    ...info,
    descendants: infos.filter((o) => o.ancestors.includes(info.stage)).map((o) => o.stage),
  }));
}

interface Property {
  readonly name: string;
  readonly value: string | null;
  readonly start: number;
  readonly end: number;
}

const propertiesMemo = new WeakMap<InstructionNode, Property[]>();

/** ENV/ARG `name=value` pairs with their file ranges (dockerfile-ast unquotes values). */
function properties(file: ParsedDockerfile, node: InstructionNode): Property[] {
  const memo = propertiesMemo.get(node);
  if (memo) return memo;
  const props = readProperties(file, node);
  propertiesMemo.set(node, props);
  return props;
}

function readProperties(file: ParsedDockerfile, node: InstructionNode): Property[] {
  const ast = node.ast as unknown as {
    getProperties?: () => { getName(): string; getValue(): string | null; getRange(): { start: Pos; end: Pos } }[];
  };
  if (typeof ast.getProperties !== "function") return [];
  return ast.getProperties().map((p) => ({
    name: p.getName(),
    value: p.getValue(),
    start: file.lines.offsetAt(p.getRange().start),
    end: file.lines.offsetAt(p.getRange().end),
  }));
}

interface Pos {
  readonly line: number;
  readonly character: number;
}

interface EnvState {
  /** Value of each variable in effect; null when set but unknown (ARG, unresolved $VAR). */
  readonly env: Map<string, string | null>;
  /** The instruction that set each variable. */
  readonly setBy: Map<string, InstructionNode>;
}

/** ENV (inherited through FROM <stage>) and the stage's ARGs in effect at `node`. */
/** envAt is pure in its node: memoised per parsed node. */
const envMemo = new WeakMap<InstructionNode, EnvState>();

function envAt(file: ParsedDockerfile, info: StageInfo, node: InstructionNode): EnvState {
  const memo = envMemo.get(node);
  if (memo) return memo;
  const state = computeEnvAt(file, info, node);
  envMemo.set(node, state);
  return state;
}

function computeEnvAt(file: ParsedDockerfile, info: StageInfo, node: InstructionNode): EnvState {
  const env = new Map<string, string | null>();
  const setBy = new Map<string, InstructionNode>();
  const chain = [...info.ancestors, info.stage];
  for (const stage of chain) {
    for (const i of stage.instructions) {
      if (stage === info.stage && i.index >= node.index) break;
      if (i.keyword === "ENV") {
        for (const p of properties(file, i)) {
          env.set(p.name, p.value === null ? null : expand(p.value, env));
          setBy.set(p.name, i);
        }
      } else if (i.keyword === "ARG" && stage === info.stage) {
        // An ARG's value can come from --build-arg: unknown here.
        for (const p of properties(file, i)) {
          env.set(p.name, null);
          setBy.set(p.name, i);
        }
      }
    }
  }
  return { env, setBy };
}

/** Docker's own `$VAR`/`${VAR}`/`${VAR:-x}` substitution in ENV values; null when it needs unknowns. */
function expand(value: string, env: ReadonlyMap<string, string | null>): string | null {
  if (!value.includes("$")) return value;
  let unknown = false;
  const out = value.replace(
    /\\\$|\$\{([A-Za-z_]\w*)(:?[-+])?([^}]*)\}|\$([A-Za-z_]\w*)/g,
    (m, braced?: string, op?: string, word?: string, bare?: string) => {
      if (m === "\\$") return "$";
      const name = (braced ?? bare)!;
      const v = env.get(name);
      if (v === null) {
        unknown = true;
        return "";
      }
      if (op === ":-" || op === "-") return v === undefined || v === "" ? (word ?? "") : v;
      if (op === ":+" || op === "+") return v !== undefined && v !== "" ? (word ?? "") : "";
      // A variable the Dockerfile never set may come from the base image.
      if (v === undefined) unknown = true;
      return v ?? "";
    },
  );
  return unknown ? null : out;
}

interface UserFacts {
  /** The USER in effect, null when it is only known at build time. */
  readonly user: string | null;
  readonly isRoot: boolean;
  readonly home: string | null;
  readonly uid: string | null;
  readonly gid: string | null;
}

/**
 * Well-known images whose default USER is not root: without a USER line the
 * RUN's user (and HOME) is theirs, not root's. Any other base is assumed root.
 */
const NON_ROOT_BASES =
  /^(docker\.io\/)?(jenkins\/jenkins|jenkins|ocaml\/opam|jupyter\/[^:@]+|quay\.io\/jupyter\/[^:@]+|bitnami\/[^:@]+|gitpod\/[^:@]+|circleci\/[^:@]+|cimg\/[^:@]+|sonarqube|grafana\/grafana[^:@]*)(:|@|$)/;

function userAt(info: StageInfo, node: InstructionNode, env: ReadonlyMap<string, string | null>): UserFacts {
  // The base image's user, unknown for the images known not to run as root.
  let user: string | null = info.baseImage !== null && NON_ROOT_BASES.test(info.baseImage) ? null : "root";
  for (const stage of [...info.ancestors, info.stage]) {
    for (const i of stage.instructions) {
      if (stage === info.stage && i.index >= node.index) break;
      if (i.keyword === "USER") {
        const raw = i.args[0]?.value ?? "root";
        user = raw.includes("$") ? null : raw;
      }
    }
  }
  const envHome = env.has("HOME") ? (env.get("HOME") ?? null) : undefined;
  if (user === null) return { user, isRoot: false, home: envHome ?? null, uid: null, gid: null };
  const [name, group] = user.split(":") as [string, string | undefined];
  const isRoot = name === "root" || name === "0";
  const numeric = /^\d+$/.test(name);
  const created = createdUsers(info, node);
  const known = numeric ? created.find((u) => u.uid === name) : created.find((u) => u.name === name);
  let home: string | null;
  if (envHome !== undefined) home = envHome;
  else if (known?.home) home = known.home;
  // homeOf knows root and useradd's default /home/<name>; a bare uid has no name to go by.
  else if (numeric && !isRoot) home = known ? homeOf(known.name) : null;
  else home = homeOf(name);
  const uid = isRoot ? "0" : numeric ? name : (known?.uid ?? null);
  const gid = group !== undefined && /^\d+$/.test(group) ? group : null;
  return { user, isRoot, home, uid, gid };
}

interface CreatedUser {
  readonly name: string;
  readonly uid: string | null;
  readonly home: string | null;
}

/** Users made by `useradd`/`adduser` in the stage family before `node`, with -u / -d / -h / --home. */
function createdUsers(info: StageInfo, node: InstructionNode): CreatedUser[] {
  return familyUsers(info)
    .filter((u) => u.stage !== info.stage || u.index < node.index)
    .map((u) => u.user);
}

/** Every user the family's RUNs create, in order; once per stage (each RUN asks about those before it). */
const familyUsers = memoByObject((info: StageInfo): { stage: Stage; index: number; user: CreatedUser }[] => {
  const all: { stage: Stage; index: number; user: CreatedUser }[] = [];
  for (const stage of [...info.ancestors, info.stage]) {
    for (const i of stage.instructions) {
      if (i.keyword !== "RUN" || !i.shell?.parse.ok) continue;
      for (const c of allSimpleCommands(i.shell.parse.script.statements)) {
        const add = parseUserAdd(c);
        if (add?.name) all.push({ stage, index: i.index, user: { name: add.name, uid: add.uid, home: add.home } });
      }
    }
  }
  return all;
});

function workdirAt(info: StageInfo, node: InstructionNode): string | null {
  let dir: string | null = null;
  for (const stage of [...info.ancestors, info.stage]) {
    for (const i of stage.instructions) {
      if (stage === info.stage && i.index >= node.index) break;
      if (i.keyword !== "WORKDIR") continue;
      const value = i.args.map((a) => a.value).join(" ");
      if (value.includes("$")) dir = null;
      else if (value.startsWith("/")) dir = value;
      else dir = dir === null ? null : `${dir.replace(/\/$/, "")}/${value}`;
    }
  }
  return dir;
}

/* ------------------------------------------------------------------ */
/* Planning one RUN                                                    */
/* ------------------------------------------------------------------ */

interface RunInput {
  readonly node: InstructionNode;
  readonly script: ShellScript;
  readonly info: StageInfo;
}

type SpecPlan =
  | {
      readonly state: "mount";
      readonly spec: CacheSpec;
      /** Directories to add mounts for. */
      readonly added: readonly string[];
      /** Directories the RUN already mounts (itself or a parent). */
      readonly covered: readonly string[];
      readonly calls: readonly ToolCall[];
    }
  | { readonly state: "skip"; readonly spec: CacheSpec; readonly reason: string };

type MountPlan = Extract<SpecPlan, { state: "mount" }>;

interface RunPlan {
  readonly node: InstructionNode;
  readonly script: ShellScript;
  readonly info: StageInfo;
  readonly specs: ReadonlyMap<CacheId, SpecPlan>;
  readonly edits: Edit[];
  readonly flags: string[];
  readonly unsafe: string[];
  readonly removed: string[];
  readonly notes: string[];
  readonly aptCalls: readonly ToolCall[];
  /** A cache was left out because an `rm -rf` of its parent would have to go. */
  readonly parentBlocked: boolean;
}

interface FileFacts {
  readonly file: ParsedDockerfile;
  readonly infos: readonly StageInfo[];
  /** apt lists, per RUN node index: reads lists it didn't fetch, fetches or deletes them first, or neither. */
  readonly listsUse: ReadonlyMap<number, ListsUse>;
  /** The apk index in /var/cache/apk, per RUN node index, read the same way as the apt lists. */
  readonly apkUse: ReadonlyMap<number, ListsUse>;
}

function familyStages(info: StageInfo): Stage[] {
  return [...info.ancestors, info.stage, ...info.descendants];
}

/** Text of the family's RUN bodies and ENV lines (for offline markers). */
function familyText(facts: FileFacts, info: StageInfo, keywords: readonly string[]): string {
  // Once per stage and keyword set: every RUN's plan asks for it.
  let byKeywords = familyTextMemo.get(info);
  if (!byKeywords) familyTextMemo.set(info, (byKeywords = new Map()));
  const key = keywords.join(" ");
  let text = byKeywords.get(key);
  if (text === undefined) {
    text = familyStages(info)
      .flatMap((s) => s.instructions)
      .filter((i) => keywords.includes(i.keyword))
      .map((i) => facts.file.text.slice(i.start, i.end))
      .join("\n");
    byKeywords.set(key, text);
  }
  return text;
}

const familyTextMemo = new WeakMap<StageInfo, Map<string, string>>();

interface PlanOptions {
  /** Plan as if these caches' disabling ENV were gone (to decide whether it may go). */
  readonly ignoreEnvDisable?: ReadonlySet<CacheId>;
  /** Commands that must stay (their removal would take a comment line). */
  readonly keep?: ReadonlySet<SimpleCommand>;
  /** Drop an `rm -rf` of a parent of a cache (unsafe: it deleted more than the cache). */
  readonly allowParentDrop?: boolean;
}

function planRun(facts: FileFacts, input: RunInput, options: PlanOptions = {}): RunPlan | null {
  const ignoreEnvDisable = options.ignoreEnvDisable ?? new Set<CacheId>();
  const keep = options.keep ?? new Set<SimpleCommand>();
  let parentBlocked = false;
  const { node, script, info } = input;
  const calls = toolCalls(script);
  if (calls.length === 0) return null;
  const { env, setBy } = envAt(facts.file, info, node);
  const user = userAt(info, node, env);
  const hasCd = allSimpleCommands(script.statements).some((c) => c.name === "cd" || c.name === "pushd");
  const pathCtx: PathContext = { home: user.home, env, cwd: hasCd ? null : workdirAt(info, node) };
  const specs = new Map<CacheId, SpecPlan>();
  const existing = existingMounts(node);
  const runText = familyText(facts, info, ["RUN", "ENV", "ARG"]);
  const runtimeText = familyText(facts, info, ["CMD", "ENTRYPOINT"]);
  const assignedInRun = new Set<string>();
  for (const c of allSimpleCommands(script.statements)) {
    const name = c.words[0]?.value ?? null;
    if (c.words.length === 0) for (const a of c.assigns) assignedInRun.add(a.name);
    if (name === "export" || name === "declare" || name === "typeset" || name === "readonly" || name === "unset") {
      for (const w of c.words.slice(1)) if (w.value) assignedInRun.add(w.value.split("=")[0]!);
    }
  }
  const aptCalls = calls.filter((c) => callUsesCache(c, archivesSpec));

  for (const spec of CACHE_SPECS) {
    const using = calls.filter((c) => callUsesCache(c, spec));
    if (using.length === 0) continue;
    const skip = (reason: string) => specs.set(spec.id, { state: "skip", spec, reason });
    const system = spec.id.startsWith("apt") || spec.id === "apk";
    if (user.user === null) {
      skip("the RUN's user is only known at build time (USER with a variable, or a base image that runs as non-root)");
      continue;
    }
    if (!user.isRoot && (system || using.some((c) => c.viaSudo))) {
      skip(
        system
          ? `${spec.tools[0]} needs root and the RUN runs as USER ${user.user}`
          : `${spec.label} runs through sudo as another user`,
      );
      continue;
    }
    if (!user.isRoot && user.uid === null) {
      skip(`the uid of USER ${user.user} is unknown, so a cache mount (owned by root) would not be writable`);
      continue;
    }
    const disabling = spec.disablingEnv.find((d) => env.has(d.name) && disables(d.values, env.get(d.name) ?? null));
    if (disabling && !ignoreEnvDisable.has(spec.id)) {
      const at = setBy.get(disabling.name);
      skip(`${at?.keyword ?? "ENV"} ${disabling.name} (line ${at?.line ?? "?"}) turns ${spec.label}'s cache off`);
      continue;
    }
    const moved = [...spec.dirEnv, ...spec.disablingEnv.map((d) => d.name)].find((n) => assignedInRun.has(n));
    if (moved) {
      skip(`the RUN sets ${moved} itself`);
      continue;
    }
    const offline = spec.offline.find((re) => re.test(runText));
    if (offline) {
      skip(
        `the stage uses ${spec.label} offline or prefetches for it (${offline.source.replace(/\\b|\\/g, "")}): a mount would hide the files it needs from earlier layers`,
      );
      continue;
    }
    const runtime = spec.runtime.find((re) => re.test(runtimeText));
    if (runtime) {
      skip(`the image runs ${spec.label} at run time (CMD/ENTRYPOINT), which reads the cache from the image`);
      continue;
    }
    const refusal = CACHE_REFUSALS[spec.id]?.(facts, input, using) ?? null;
    if (refusal) {
      skip(refusal);
      continue;
    }
    // Where the cache is, call by call (a `VAR=x tool` prefix or a --cache-dir flag moves it).
    const dirs: string[] = [];
    let unknown: string | null = null;
    for (const call of using) {
      const r = callDirs(spec, call, env, user, info, runText);
      if ("unknown" in r) {
        unknown = r.unknown;
        break;
      }
      for (const d of r.dirs) if (!dirs.includes(d)) dirs.push(d);
    }
    if (unknown !== null) {
      skip(unknown);
      continue;
    }
    const copied = copiedOut(facts, info, dirs) ?? copiedIn(facts, input, dirs);
    if (copied) {
      skip(copied);
      continue;
    }
    const created = cacheCreations(script, dirs, pathCtx)[0];
    if (created) {
      const text = script.source.slice(created.command.start, created.command.end);
      skip(
        `\`${short(text)}\` creates ${created.target} or a parent of it, which BuildKit creates before the RUN for the mount: ${created.why}`,
      );
      continue;
    }
    const added: string[] = [];
    const covered: string[] = [];
    let conflict: string | null = null;
    for (const d of dirs) {
      const state = mountState(existing, d);
      if (state === "covered") covered.push(d);
      else if (state === "free") added.push(d);
      else conflict = state;
    }
    if (conflict) {
      skip(conflict);
      continue;
    }
    specs.set(spec.id, { state: "mount", spec, added, covered, calls: using });
  }

  // Cleanups: what wipes a mounted directory goes, or the mount doesn't come.
  const notes: string[] = [];
  const unsafe: string[] = [];
  const removed: string[] = [];
  let removeWhole: SimpleCommand[] = [];
  let removeWords: { command: SimpleCommand; index: number }[] = [];
  for (let round = 0; round < CACHE_SPECS.length + 1; round++) {
    const mounted = [...specs.values()].flatMap((p) =>
      p.state === "mount" ? [{ spec: p.spec, targets: [...p.added, ...p.covered] }] : [],
    );
    const blocked = new Map<CacheId, string>();
    const block = (target: string | null, why: string) => {
      const owner = mounted.find((m) => target !== null && m.targets.includes(target));
      if (owner && !blocked.has(owner.spec.id)) blocked.set(owner.spec.id, why);
    };
    removeWhole = [];
    removeWords = [];
    unsafe.length = 0;
    removed.length = 0;
    notes.length = 0;
    const touches = cacheTouches(script, mounted, pathCtx);
    const seen = new Set<SimpleCommand>();
    for (const t of touches) {
      const text = script.source.slice(t.command.start, t.command.end);
      if (t.kind === "other") {
        block(t.target, `\`${short(text)}\` works on ${t.target} directly`);
        continue;
      }
      if (seen.has(t.command)) continue;
      seen.add(t.command);
      const refusal = keep.has(t.command)
        ? "removing it would remove a comment line"
        : removalRefusal(script, t.command);
      if (t.kind === "tool-cleanup") {
        // `go clean -cache -modcache` wipes two caches: all of them decide.
        const all = touches.filter((o) => o.command === t.command && o.kind === "tool-cleanup");
        if (refusal === null) {
          removeWhole.push(t.command);
          removed.push(short(text));
        } else if (all.some((o) => o.cleanupLeft === "fails")) {
          for (const o of all.filter((x) => x.cleanupLeft === "fails")) {
            block(o.target, `\`${short(text)}\` would delete the mount point and can't be removed (${refusal})`);
          }
        } else {
          notes.push(`\`${short(text)}\` left in place (${refusal}); it only empties the cache`);
        }
        continue;
      }
      // rm: unknown paths block; cached paths go (the whole command when nothing else is left).
      const related = t.rmWords.filter((w) => w.relation !== null);
      const unknownWord = related.find((w) => w.relation === "unknown");
      if (unknownWord) {
        block(
          unknownWord.target,
          `\`${short(text)}\` may remove ${unknownWord.target} (a path only known at build time)`,
        );
        continue;
      }
      const others = t.rmWords.filter((w) => w.relation === null);
      const parents = related.filter((w) => w.relation === "ancestor");
      const fatal = related.filter((w) => w.relation !== "inside");
      if (parents.length > 0 && !options.allowParentDrop) {
        parentBlocked = true;
        for (const w of parents) {
          block(
            w.target,
            `\`${short(text)}\` removes a parent of ${w.target} and would fail on the mount point; dropping it is unsafe (--unsafe)`,
          );
        }
        continue;
      }
      // Dropping `rm -rf /go` keeps all of GOPATH (sources, binaries) in the image: only a
      // parent that is itself a cache directory (~/.cache, /var/cache) may be dropped.
      const heavyParent = parents.find((w) => !CACHE_ROOT.test(t.command.words[w.index]?.value ?? ""));
      if (heavyParent) {
        block(
          heavyParent.target,
          `\`${short(text)}\` removes ${t.command.words[heavyParent.index]?.value ?? "a parent"}, which holds more than the cache of ${heavyParent.target}; dropping it would keep all of it in the image`,
        );
        continue;
      }
      if (others.length > 0) {
        for (const w of related) removeWords.push({ command: t.command, index: w.index });
      } else if (refusal === null) {
        removeWhole.push(t.command);
      } else if (fatal.length > 0) {
        for (const w of fatal) {
          block(
            w.target,
            `\`${short(text)}\` would fail on the mount point ${w.target} and can't be removed (${refusal})`,
          );
        }
        continue;
      } else {
        notes.push(`\`${short(text)}\` left in place (${refusal}); it only empties the cache`);
        continue;
      }
      removed.push(others.length > 0 ? related.map((w) => t.command.words[w.index]!.source).join(" ") : short(text));
      for (const w of parents) {
        unsafe.push(
          `\`${t.command.words[w.index]!.source}\` is a parent of the cache mount ${w.target}; rm would fail on the mount point, so it is dropped and whatever else it deleted there stays in the image`,
        );
      }
    }
    if (blocked.size === 0) break;
    for (const [specId, why] of blocked) {
      const p = specs.get(specId)!;
      specs.set(specId, { state: "skip", spec: p.spec, reason: why });
    }
  }

  // Edits.
  const edits: Edit[] = [];
  const flags: string[] = [];
  // Mounts in the order the RUN first uses each tool, so a RUN merged from
  // two mounted RUNs (chain-runs keeps the first RUN's flags, then adds the
  // second's) reads the same as one mounted after the merge.
  const firstUse = (p: MountPlan) => Math.min(...p.calls.map((c) => c.command.start));
  const order = (p: MountPlan) => CACHE_SPECS.indexOf(p.spec);
  const mountPlans = [...specs.values()]
    .filter((p): p is MountPlan => p.state === "mount")
    .sort((x, y) => firstUse(x) - firstUse(y) || order(x) - order(y));
  for (const p of mountPlans) {
    for (const dir of p.added) {
      if (flags.some((f) => f.includes(`target=${dir},`) || f.endsWith(`target=${dir}`))) continue;
      let flag = `--mount=type=cache,target=${dir}`;
      if (p.spec.locked) flag += ",sharing=locked";
      if (!user.isRoot && user.uid !== null) flag += `,uid=${user.uid}${user.gid !== null ? `,gid=${user.gid}` : ""}`;
      flags.push(flag);
    }
  }
  if (flags.length > 0) edits.push(insertRunFlag(facts.file, node, flags.join(" ")));
  const removedCommands = new Set(removeWhole);
  // Flags and prefixes that turn the cache off.
  for (const p of mountPlans) {
    for (const call of p.calls) {
      if (removedCommands.has(call.command)) continue;
      for (const e of disablingEdits(facts.file, node, script, p.spec, call)) {
        edits.push(e.edit);
        if (!removed.includes(e.what)) removed.push(e.what);
      }
    }
  }
  if (removeWhole.length > 0) {
    const whole = removeCommands(facts.file, node, script, removeWhole);
    if (whole === null) {
      // A comment line sits in the text to remove: keep those commands.
      return planRun(facts, input, { ...options, keep: new Set([...keep, ...removeWhole]) });
    }
    edits.push(...whole);
  }
  for (const w of removeWords) {
    if (removedCommands.has(w.command)) continue;
    edits.push(removeWordOrLine(facts.file, node, w.command.words[w.index]!));
  }
  if (!user.isRoot && flags.length > 0) {
    unsafe.push(
      `the RUN runs as USER ${user.user}: BuildKit creates the mount point and any missing parent directories owned by root, and they stay in the image where ${user.user} may not be able to write`,
    );
  }
  for (const p of specs.values()) {
    if (p.state === "skip") notes.push(`${p.spec.label} cache not mounted: ${p.reason}`);
  }
  if (overlapping(edits)) {
    // Two removals reach into each other: leave the RUN alone rather than guess.
    notes.push("cache mounts not added: the cleanup to remove is entangled in a way dfopt can't edit cleanly");
    return { node, script, info, specs, edits: [], flags: [], unsafe: [], removed: [], notes, aptCalls, parentBlocked };
  }
  return { node, script, info, specs, edits, flags, unsafe, removed, notes, aptCalls, parentBlocked };
}

function short(text: string): string {
  const one = text.replace(/\s+/g, " ").trim();
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}

function disables(values: "any" | "truthy", value: string | null): boolean {
  if (values === "any" || value === null) return true;
  return !/^(0|false|no|off|)$/i.test(value.trim());
}

/** Mount directories for one call: a dir flag, then `VAR=x` prefixes over the stage's ENV. */
function callDirs(
  spec: CacheSpec,
  call: ToolCall,
  env: ReadonlyMap<string, string | null>,
  user: UserFacts,
  info: StageInfo,
  runText: string,
): { dirs: readonly string[] } | { unknown: string } {
  const words = call.command.words;
  for (let i = call.argsFrom; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    for (const flag of spec.dirFlags) {
      let value: string | null | undefined;
      if (v === flag) value = words[i + 1]?.value ?? null;
      else if (v.startsWith(`${flag}=`)) value = v.slice(flag.length + 1);
      else continue;
      if (value === null || value === undefined || !value.startsWith("/")) {
        return { unknown: `${flag} names a directory only known at build time` };
      }
      return { dirs: [normalizePath(value)] };
    }
  }
  const callEnv = new Map(env);
  for (const a of call.command.assigns) callEnv.set(a.name, a.value);
  // `env VAR=x tool`
  for (const w of words.slice(0, call.argsFrom)) {
    const m = w.value === null ? null : /^([A-Za-z_]\w*)=(.*)$/s.exec(w.value);
    if (m) callEnv.set(m[1]!, m[2]!);
  }
  const homeSet = callEnv.get("HOME");
  const ctx: DirContext = {
    env: callEnv,
    home: callEnv.has("HOME") ? (homeSet ?? null) : user.home,
    isRoot: user.isRoot,
    baseImage: info.baseImage,
    familyText: runText,
  };
  return resolveCacheDirs(spec, ctx);
}

interface ExistingMount {
  readonly type: string;
  readonly target: string;
}

function existingMounts(node: InstructionNode): ExistingMount[] {
  const out: ExistingMount[] = [];
  for (const f of node.flags) {
    if (f.name !== "mount") continue;
    const target = f.options.get("target") ?? f.options.get("dst") ?? f.options.get("destination");
    if (!target) continue;
    out.push({ type: f.options.get("type") ?? "bind", target: normalizePath(target) });
  }
  return out;
}

/** `covered` by an existing cache mount at it or a parent, `free`, or why it can't be mounted. */
function mountState(existing: readonly ExistingMount[], dir: string): "covered" | "free" | string {
  for (const m of existing) {
    const r = pathRelation(m.target, dir);
    if (m.type === "cache" && (r === "mountpoint" || r === "ancestor")) return "covered";
  }
  for (const m of existing) {
    const r = pathRelation(m.target, dir);
    if (r !== "unrelated") return `the RUN already has a ${m.type} mount at ${m.target}`;
  }
  return "free";
}

/** The file's `COPY --from=` instructions, once per file (every RUN's cache asks). */
const copiesFromStages = memoByFile((file) =>
  file.instructions.flatMap((node) => {
    const from = node.keyword === "COPY" ? node.flags.find((f) => f.name === "from")?.value?.toLowerCase() : undefined;
    return from ? [{ node, from }] : [];
  }),
);

/** A COPY --from of this stage family that copies the cache directory (or a parent) out. */
function copiedOut(facts: FileFacts, info: StageInfo, dirs: readonly string[]): string | null {
  const family = familyStages(info);
  const names = new Set(family.flatMap((s) => [String(s.index), ...(s.name ? [s.name] : [])]));
  for (const { node, from } of copiesFromStages(facts.file)) {
    if (!names.has(from)) continue;
    const sources = node.args.slice(0, -1).map((a) => a.value);
    for (const src of sources) {
      const path = src.startsWith("/") ? src : `/${src}`;
      for (const d of dirs) {
        if (pathRelation(path, d) !== "unrelated") {
          return `COPY --from=${from} ${src} (line ${node.line}) copies the cache out of the stage`;
        }
      }
    }
  }
  return null;
}

/** Removing `--no-cache-dir`, `-n`, `PIP_NO_CACHE_DIR=1 …`; apk's `--no-cache` becomes `--update-cache`. */
function disablingEdits(
  file: ParsedDockerfile,
  node: InstructionNode,
  script: ShellScript,
  spec: CacheSpec,
  call: ToolCall,
): { edit: Edit; what: string }[] {
  const out: { edit: Edit; what: string }[] = [];
  const words = call.command.words;
  const isDisablingFlag = (v: string): boolean => {
    if (spec.disablingFlags.includes(v)) return true;
    const p = spec.disablingFlagPrefix;
    return p !== undefined && v.length >= p.shortest.length && p.full.startsWith(v);
  };
  for (let i = call.argsFrom; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !isDisablingFlag(v)) continue;
    if (v === "--") break;
    if (spec.id === "apk") {
      const fetches =
        words.some((w) => w.value === "-U" || w.value === "--update-cache" || w.value === "--update") ||
        call.subcommand === "update" ||
        apkUpdatedBefore(script, call);
      out.push({
        edit: fetches ? removeWordOrLine(file, node, words[i]!) : replaceSpan(node, words[i]!, "--update-cache"),
        what: fetches ? "--no-cache" : "--no-cache → --update-cache",
      });
      continue;
    }
    out.push({ edit: removeWordOrLine(file, node, words[i]!), what: v });
  }
  const disablingNames = new Set(spec.disablingEnv.map((d) => d.name));
  call.command.assigns.forEach((a, k) => {
    if (disablingNames.has(a.name)) {
      out.push({ edit: removeAssignmentEdit(node, call.command, k), what: `${a.name}=` });
    }
  });
  for (let i = 1; i < call.argsFrom; i++) {
    const v = words[i]!.value;
    const m = v === null ? null : /^([A-Za-z_]\w*)=/.exec(v);
    if (m && disablingNames.has(m[1]!) && words.slice(0, i).some((w) => w.value === "env")) {
      out.push({ edit: removeWordOrLine(file, node, words[i]!), what: `${m[1]}=` });
    }
  }
  return out;
}

/** An `apk update` (or `apk add -U`) that runs unconditionally before this call. */
function apkUpdatedBefore(script: ShellScript, call: ToolCall): boolean {
  for (const c of toolCalls(script)) {
    if (c.tool !== "apk" || c.command.start >= call.command.start) continue;
    const refreshes =
      c.subcommand === "update" ||
      c.command.words.some((w) => w.value === "-U" || w.value === "--update-cache" || w.value === "--update");
    if (refreshes && runsUnconditionally(script, c.command)) return true;
  }
  return false;
}

/* ------------------------------------------------------------------ */
/* apt lists                                                           */
/* ------------------------------------------------------------------ */

/** apt calls that read /var/lib/apt/lists. */
function readsLists(call: ToolCall): boolean {
  if (call.tool === "apt-cache" || call.tool === "aptitude") return true;
  if (call.tool !== "apt-get" && call.tool !== "apt") return false;
  const sub = call.subcommand;
  return sub !== null && !["update", "clean", "autoclean", "autoremove", "remove", "purge", "check"].includes(sub);
}

/** The first `apt-get update` that runs unconditionally, or null. */
function firstUpdate(script: ShellScript): ToolCall | null {
  for (const c of [...toolCalls(script)].sort((a, b) => a.command.start - b.command.start)) {
    if (
      (c.tool === "apt-get" || c.tool === "apt") &&
      c.subcommand === "update" &&
      runsUnconditionally(script, c.command)
    ) {
      return c;
    }
  }
  return null;
}

/**
 * True when the RUN reads apt lists it did not fetch itself first, or runs
 * something opaque (a script, `$APT_INST wget`) before its own update.
 */
function readsOldLists(script: ShellScript, env: ReadonlyMap<string, string | null>): boolean {
  const update = firstUpdate(script);
  const before = (start: number) => update === null || start < update.command.start;
  return (
    toolCalls(script).some((c) => readsLists(c) && before(c.command.start)) ||
    opaqueCommands(script, env).some((c) => before(c.command.start))
  );
}

type ListsUse = "reads" | "refreshes" | "none";

function listsUseOf(script: ShellScript, env: ReadonlyMap<string, string | null>): ListsUse {
  if (readsOldLists(script, env)) return "reads";
  return firstUpdate(script) !== null || deletesUnder(script, "/var/lib/apt/lists") ? "refreshes" : "none";
}

/** Reasons particular to one cache not to mount it on a RUN (`using`: the RUN's calls that use it). */
const CACHE_REFUSALS: Partial<
  Record<CacheId, (facts: FileFacts, input: RunInput, using: readonly ToolCall[]) => string | null>
> = {
  "apt-lists": listsRefusal,
  apk: (facts, input, using) => apkRootRefusal(using) ?? apkIndexRefusal(facts, input),
  "apt-archives": downloadOnlyRefusal,
  pip: (facts, input) => pipConfigRefusal(facts, input),
};

function listsRefusal(facts: FileFacts, input: RunInput, updates: readonly ToolCall[]): string | null {
  const { script, node, info } = input;
  const update = firstUpdate(script);
  if (update === null || !updates.some((u) => u.command === update.command)) {
    return "its apt-get update runs only conditionally";
  }
  if (readsOldLists(script, envAt(facts.file, info, node).env)) {
    return "the RUN uses apt lists (or runs a script that may) before its own apt-get update";
  }
  if (deletesUnder(script, "/var/lib/apt/lists")) return null;
  // Later RUNs read the lists this RUN leaves until one fetches (or deletes) them again.
  const reader = laterReader(facts, info, node, facts.listsUse, listsUseOf);
  return reader
    ? `${reader} may read the apt lists this RUN leaves in the image (it uses apt, or runs a script, without its own apt-get update)`
    : null;
}

/**
 * The first later RUN that reads what this RUN leaves in the image (apt
 * lists, the apk index) before a RUN of the stage fetches or deletes it
 * again: the stage's later RUNs, then its `ONBUILD RUN`s (they run in every
 * image built FROM it), then the stages built on it. Described for a reason,
 * or null.
 */
function laterReader(
  facts: FileFacts,
  info: StageInfo,
  node: InstructionNode,
  uses: ReadonlyMap<number, ListsUse>,
  useOf: (script: ShellScript, env: ReadonlyMap<string, string | null>) => ListsUse,
): string | null {
  for (const stage of [info.stage, ...info.descendants]) {
    let refreshed = false;
    for (const later of stage.instructions) {
      if (later.keyword !== "RUN" || (stage === info.stage && later.index <= node.index)) continue;
      const use = uses.get(later.index);
      if (use === "reads") return `a later RUN (line ${later.line})`;
      if (use === "refreshes" && stage === info.stage) {
        refreshed = true;
        break;
      }
    }
    if (refreshed) return null;
    for (const trigger of stage.instructions) {
      if (trigger.keyword !== "ONBUILD") continue;
      if (onbuildUse(facts, info, trigger, useOf) === "reads") {
        return `the ONBUILD RUN at line ${trigger.line}, which runs in images built FROM this one,`;
      }
    }
  }
  return null;
}

/** How an `ONBUILD RUN …` uses a cache left in the image (`none` for other ONBUILD instructions). */
function onbuildUse(
  facts: FileFacts,
  info: StageInfo,
  trigger: InstructionNode,
  useOf: (script: ShellScript, env: ReadonlyMap<string, string | null>) => ListsUse,
): ListsUse {
  const body = onbuildRunBody(facts.file, trigger);
  if (body === null) return "none";
  const parsed = body.trimStart().startsWith("[") ? null : parseShell(body);
  if (parsed === null || !parsed.ok) {
    return /\bapt(-get|-cache)?\b|\baptitude\b|\bapk\b/.test(body) ? "reads" : "none";
  }
  return useOf(parsed.script, envAt(facts.file, info, trigger).env);
}

/** The command of `ONBUILD RUN <command>`, or null. */
function onbuildRunBody(file: ParsedDockerfile, trigger: InstructionNode): string | null {
  if (trigger.keyword !== "ONBUILD") return null;
  const m = /^\s*onbuild\s+run\s+([\s\S]*)$/i.exec(file.text.slice(trigger.start, trigger.end));
  if (!m) return null;
  // Drop RUN flags (`--mount=…`) and line continuations.
  return m[1]!.replace(/\\\r?\n/g, " ").replace(/^(\s*--\S+)+\s*/, "");
}

/* ------------------------------------------------------------------ */
/* apk                                                                 */
/* ------------------------------------------------------------------ */

/** apk subcommands that need the repository index. */
const APK_INDEX_READERS = new Set(["add", "upgrade", "fix", "fetch", "search", "policy", "list", "dot", "version"]);

function apkWords(call: ToolCall): (string | null)[] {
  return call.command.words.slice(call.argsFrom).map((w) => w.value);
}

/** The call downloads a fresh index itself (and keeps it unless --no-cache). */
function apkFetchesIndex(call: ToolCall): boolean {
  return (
    call.subcommand === "update" ||
    apkWords(call).some((w) => w === "-U" || w === "--update-cache" || w === "--update" || w === "--no-cache")
  );
}

/** `apk update`, `apk add -U …` without --no-cache: the index stays in /var/cache/apk. */
function apkKeepsIndex(call: ToolCall): boolean {
  return apkFetchesIndex(call) && !apkWords(call).includes("--no-cache");
}

/** An apk call that reads the index an earlier layer (or call) left. */
function apkReadsIndex(script: ShellScript, call: ToolCall): boolean {
  if (call.tool !== "apk" || call.subcommand === null || !APK_INDEX_READERS.has(call.subcommand)) return false;
  return !apkFetchesIndex(call) && !apkUpdatedBefore(script, call);
}

/** `sh -c '…apk…'`, scripts and dynamic commands that may run apk unseen, before the RUN's first refresh. */
function apkOpaqueBeforeRefresh(script: ShellScript, env: ReadonlyMap<string, string | null>): boolean {
  const refresh = toolCalls(script)
    .filter((c) => c.tool === "apk" && apkFetchesIndex(c) && runsUnconditionally(script, c.command))
    .sort((a, b) => a.command.start - b.command.start)[0];
  const before = (start: number) => refresh === undefined || start < refresh.command.start;
  const opaque = opaqueCommands(script, env).some((o) => o.apt === "maybe" && before(o.command.start));
  const shellApk = allSimpleCommands(script.statements).some(
    (c) =>
      before(c.start) &&
      /^(\S*\/)?(ba|da|a|z|k)?sh$/.test(c.name ?? "") &&
      /\bapk\b/.test(script.source.slice(c.start, c.end)),
  );
  return opaque || shellApk;
}

function apkUseOf(script: ShellScript, env: ReadonlyMap<string, string | null>): ListsUse {
  const calls = toolCalls(script).filter((c) => c.tool === "apk");
  if (calls.some((c) => apkReadsIndex(script, c)) || apkOpaqueBeforeRefresh(script, env)) return "reads";
  return calls.some(apkKeepsIndex) || deletesUnder(script, "/var/cache/apk") ? "refreshes" : "none";
}

/**
 * apk with another root (`-p /out`, `--root`) keeps its cache and index
 * under that root, not under the mount; `--cache-dir` and `--keys-dir`
 * point it elsewhere too. Replacing --no-cache there would write the index
 * into that root (often what a `FROM scratch` image copies).
 */
function apkRootRefusal(calls: readonly ToolCall[]): string | null {
  for (const call of calls) {
    for (const w of apkWords(call)) {
      if (w === null) continue;
      if (w === "--") break;
      const m =
        /^(--root|--cache-dir|--keys-dir|--repositories-file)(=|$)/.exec(w) ??
        (/^-[a-zA-Z]*p/.test(w) && !w.startsWith("--") ? ["-p", "-p"] : null);
      if (m) {
        return `apk runs with ${m[1]} (another root or cache directory), where its cache and index are not under the mount; --no-cache stays`;
      }
    }
  }
  return null;
}

/**
 * The apk index (`/var/cache/apk`) plays the part of apt's lists: a RUN
 * that reads the index an earlier layer left must not get the mount (it
 * would hide that index), and a RUN that leaves one in the image must not
 * either when a later RUN relies on it without a mount of its own.
 */
function apkIndexRefusal(facts: FileFacts, input: RunInput): string | null {
  const { script, node, info } = input;
  const calls = toolCalls(script).filter((c) => c.tool === "apk");
  const reader = calls.find((c) => apkReadsIndex(script, c));
  if (reader) {
    return `\`${short(script.source.slice(reader.command.start, reader.command.end))}\` reads the apk index an earlier layer left (no -U, --no-cache or apk update before it): the mount would hide it`;
  }
  const env = envAt(facts.file, info, node).env;
  if (apkOpaqueBeforeRefresh(script, env)) {
    const earlier = [...info.ancestors, info.stage]
      .flatMap((s) => s.instructions)
      .filter((i) => i.keyword === "RUN" && (i.stage !== info.stage.index || i.index < node.index));
    const keeper = earlier.find((i) => facts.apkUse.get(i.index) === "refreshes");
    if (keeper) {
      return `the RUN runs a script (or sh -c) that may use the apk index the RUN at line ${keeper.line} left, which the mount would hide`;
    }
  }
  if (!calls.some(apkKeepsIndex) || deletesUnder(script, "/var/cache/apk")) return null;
  const later = laterReader(facts, info, node, facts.apkUse, apkUseOf);
  return later
    ? `${later} may use the apk index this RUN leaves in the image (apk without -U, --no-cache or its own apk update); with the mount that index would not be there`
    : null;
}

/* ------------------------------------------------------------------ */
/* Files an earlier layer put in the cache on purpose                  */
/* ------------------------------------------------------------------ */

/**
 * `apt-get install --download-only` / `apt-get download` keep .debs for a
 * later RUN to install from /var/cache/apt/archives: with the mount they
 * never reach the image.
 */
function downloadOnlyRefusal(facts: FileFacts, input: RunInput, calls: readonly ToolCall[]): string | null {
  const { node, info } = input;
  const downloads = calls.find((c) => {
    const words = c.command.words.slice(c.argsFrom).map((w) => w.value);
    return (
      c.subcommand === "download" ||
      words.some((w) => w === "-d" || w === "--download-only" || (w !== null && /download-only/i.test(w)))
    );
  });
  if (!downloads) return null;
  const later = [info.stage, ...info.descendants]
    .flatMap((s) => s.instructions)
    .find(
      (i) =>
        (i.stage !== info.stage.index || i.index > node.index) &&
        /\/var\/cache\/apt\b|\barchives\b/.test(facts.file.text.slice(i.start, i.end)),
    );
  if (!later) return null;
  return `the RUN only downloads .debs (--download-only / apt-get download) and the ${later.keyword} at line ${later.line} reads /var/cache/apt: with the mount they would not be in the image`;
}

/**
 * An earlier COPY/ADD (the stage's, or an ancestor stage's) that writes at,
 * into or over a cache directory: the mount would hide what it put there
 * (`COPY --from=build /go /go` before `go build`, `COPY wheels
 * /root/.cache/pip/wheels`). A destination that is a parent of the cache
 * counts when the source may be a directory (or an archive ADD unpacks);
 * `/` only for `COPY --from` (a build-context overlay such as `COPY rootfs
 * /` is not assumed to carry package caches).
 */
function copiedIn(facts: FileFacts, input: RunInput, dirs: readonly string[]): string | null {
  const { node, info } = input;
  for (const stage of [...info.ancestors, info.stage]) {
    for (const i of stage.instructions) {
      if (stage === info.stage && i.index >= node.index) break;
      if (i.keyword !== "COPY" && i.keyword !== "ADD") continue;
      if (i.args.length < 2) continue;
      const stageInfo = facts.infos[i.stage] ?? info;
      const rawDest = i.args[i.args.length - 1]!.value;
      const dest = destPath(rawDest, envAt(facts.file, stageInfo, i).env, workdirAt(stageInfo, i));
      if (dest === null) continue;
      const from = i.flags.find((f) => f.name === "from")?.value ?? null;
      const sources = i.args.slice(0, -1).map((a) => a.value);
      for (const d of dirs) {
        const r = pathRelation(dest, d);
        if (r === "unrelated") continue;
        if (r === "ancestor") {
          const tree =
            from !== null ||
            (dest !== "/" &&
              sources.some((src) => {
                const base = src.replace(/\/+$/, "").slice(src.replace(/\/+$/, "").lastIndexOf("/") + 1);
                return (
                  src.endsWith("/") ||
                  base === "" ||
                  base === "." ||
                  base === ".." ||
                  !/[^.]\.[A-Za-z0-9]+$/.test(base) ||
                  (i.keyword === "ADD" && /\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst))$/i.test(base))
                );
              }));
          if (!tree) continue;
        }
        const what = `${i.keyword}${from !== null ? ` --from=${from}` : ""} … ${rawDest}`;
        return `\`${what}\` (line ${i.line}) puts files ${r === "ancestor" ? "over" : "into"} ${d}, which the mount would hide`;
      }
    }
  }
  return null;
}

/** A COPY/ADD destination as an absolute path, or null when only known at build time. */
function destPath(raw: string, env: ReadonlyMap<string, string | null>, workdir: string | null): string | null {
  const value = expand(raw, env);
  if (value === null) return null;
  if (value.startsWith("/")) return value;
  if (workdir === null) return null;
  return `${workdir.replace(/\/+$/, "")}/${value}`;
}

/* ------------------------------------------------------------------ */
/* pip configuration files                                             */
/* ------------------------------------------------------------------ */

const PIP_CONFIG = /(^|\/)pip\.(conf|ini)$/;
/** Commands that only read or print a config file. */
const CONFIG_READERS = new Set(["cat", "ls", "test", "[", "grep", "head", "tail", "stat"]);

/**
 * pip also reads its cache directory from config files (`/etc/pip.conf`,
 * `~/.pip/pip.conf`, `~/.config/pip/pip.conf`, `$PIP_CONFIG_FILE`): when
 * the stage family writes or copies one whose content dfopt can't read, or
 * sets `cache-dir` in one, the cache location is unknown. Literal
 * `echo`/`printf` writes that don't mention a cache are fine (a mirror's
 * `index-url`).
 */
function pipConfigRefusal(facts: FileFacts, input: RunInput): string | null {
  const { node, info, script } = input;
  const unknown = (what: string, line: number) =>
    `${what} (line ${line}) may set pip's cache directory in a config file, so where pip caches is unknown`;
  const env = envAt(facts.file, info, node).env;
  if (env.has("PIP_CONFIG_FILE") && env.get("PIP_CONFIG_FILE") !== "/dev/null") {
    return unknown(
      "ENV PIP_CONFIG_FILE",
      envAt(facts.file, info, node).setBy.get("PIP_CONFIG_FILE")?.line ?? node.line,
    );
  }
  for (const stage of [...info.ancestors, info.stage]) {
    for (const i of stage.instructions) {
      if (stage === info.stage && i.index > node.index) break;
      if (i.keyword === "COPY" || i.keyword === "ADD") {
        const paths = i.args.map((a) => a.value);
        const dest = paths[paths.length - 1] ?? "";
        if (
          paths.some((p) => PIP_CONFIG.test(p.replace(/\/+$/, ""))) ||
          /(^|\/)\.pip\/?$|(^|\/)\.config\/pip\/?$|^\/etc\/xdg\/pip\/?$/.test(dest)
        ) {
          return unknown(`\`${i.keyword} … ${dest}\``, i.line);
        }
        continue;
      }
      if (i.keyword !== "RUN") continue;
      const runScript = i === node ? script : i.shell?.parse.ok ? i.shell.parse.script : null;
      const text = facts.file.text.slice(i.start, i.end);
      if (runScript === null) {
        if (/pip\.(conf|ini)|\bpip[0-9.]*\s+config\b/.test(text)) return unknown("a RUN", i.line);
        continue;
      }
      for (const c of allSimpleCommands(runScript.statements)) {
        const words = c.words.map((w) => w.value);
        const src = runScript.source.slice(c.start, c.end);
        const call = toolCall(c);
        if (call?.tool === "pip") {
          const args = words.slice(call.argsFrom);
          const k = args.indexOf("config");
          if (k >= 0 && (args[k + 1] === "edit" || (args[k + 1] === "set" && /cache/i.test(args[k + 2] ?? "cache")))) {
            return unknown(`\`${short(src)}\``, i.line);
          }
          continue;
        }
        const redirected = c.redirects.some((r) => /[>]/.test(r.op) && r.target !== null && PIP_CONFIG.test(r.target));
        const named = c.words
          .slice(1)
          .some((w) => (w.value === null ? /pip\.(conf|ini)/.test(w.source) : PIP_CONFIG.test(w.value)));
        if (!redirected && !named) continue;
        const name = c.name ? c.name.slice(c.name.lastIndexOf("/") + 1) : null;
        if (redirected && (name === "echo" || name === "printf") && !/cache/i.test(src)) continue;
        if (!redirected && name !== null && CONFIG_READERS.has(name)) continue;
        if (name === "tee" && !/cache/i.test(runScript.source)) continue;
        return unknown(`\`${short(src)}\``, i.line);
      }
    }
  }
  return null;
}

/** True when the RUN deletes `dir` or files in it unconditionally. */
function deletesUnder(script: ShellScript, dir: string): boolean {
  for (const c of allSimpleCommands(script.statements)) {
    if (c.name !== "rm" || !runsUnconditionally(script, c)) continue;
    for (const w of c.words.slice(1)) {
      if (w.value !== null && pathRelation(w.value, dir) !== "unrelated") return true;
    }
  }
  return false;
}

/* ------------------------------------------------------------------ */
/* The pass                                                            */
/* ------------------------------------------------------------------ */

function runCacheMounts(file: ParsedDockerfile, options: PassOptions): PassResult {
  const changes: Change[] = [];
  const skips: Skip[] = [];
  if (cacheMode(options) !== "mount") return { changes, skips };
  const infos = stageInfos(file);
  const listsUse = new Map<number, ListsUse>();
  const apkUse = new Map<number, ListsUse>();
  const inputs: RunInput[] = [];
  for (const node of file.instructions) {
    if (node.keyword !== "RUN") continue;
    const info = infos[node.stage];
    if (!info) continue;
    // Only a refused RUN's text is scanned for tools (the shell tree answers for the others).
    const refuse = (reason: string) => {
      const raw = file.text.slice(node.bodyStart, node.end);
      // Exec form: read the JSON strings as words (`["pip", "install"]`).
      const body = node.form === "exec" ? raw.replace(/[[\]",]/g, " ") : raw;
      if (TOOL_MENTION.test(body)) skips.push({ pass: id, at: node.start, reason });
      if (/\bapt(-get|-cache)?\b|\baptitude\b/.test(body)) listsUse.set(node.index, "reads");
      if (/\bapk\b/.test(body)) apkUse.set(node.index, "reads");
    };
    if (info.windows) {
      refuse("Windows image: BuildKit cache mounts and these package managers are Linux-only here");
      continue;
    }
    if (node.form === "exec") {
      refuse("exec-form RUN: no shell to analyse");
      continue;
    }
    if (node.form === "heredoc") {
      refuse("heredoc RUN: its script is not analysed");
      continue;
    }
    if (node.form !== "shell" || !node.shell) continue;
    if (!node.shell.parse.ok) {
      refuse(`RUN body does not parse as shell (${node.shell.parse.error})`);
      continue;
    }
    const context = contextAt(file, node);
    if (!isPosixShell(context)) {
      refuse(`RUN runs under SHELL ${JSON.stringify(context.shell)}, not a POSIX shell`);
      continue;
    }
    const script = node.shell.parse.script;
    listsUse.set(node.index, listsUseOf(script, envAt(file, info, node).env));
    apkUse.set(node.index, apkUseOf(script, envAt(file, info, node).env));
    inputs.push({ node, script, info });
  }
  const facts: FileFacts = { file, infos, listsUse, apkUse };
  const plans = new Map<number, RunPlan>();
  const merging = pendingRewrites(file, options);
  const deferred = new Set<number>();
  for (const input of inputs) {
    if (merging.some((r) => r.start <= input.node.end && r.end >= input.node.start)) {
      deferred.add(input.node.index);
      continue;
    }
    const plan = planRun(facts, input);
    if (plan) plans.set(input.node.index, plan);
  }
  addAptRecipe(facts, inputs, plans, deferred);
  for (const plan of plans.values()) {
    for (const note of plan.notes) skips.push({ pass: id, at: plan.node.start, reason: note });
    const change = toChange(plan);
    if (change) changes.push(change);
    // Once the safe part is in, offer the rest, which drops an `rm -rf` of a parent, as unsafe.
    if (!change && plan.parentBlocked) {
      const input = inputs.find((x) => x.node === plan.node)!;
      const full = planRun(facts, input, { allowParentDrop: true });
      const unsafe = full && toChange(full);
      if (unsafe) changes.push(unsafe);
    }
  }
  changes.push(...envRemovals(facts, inputs, skips));
  return { changes, skips };
}

/** Directories that only hold caches: dropping their removal keeps nothing but caches (which the mount holds). */
const CACHE_ROOT = /^(\/root|\/home\/[^/]+|~|\$HOME|\$\{HOME\})?\/\.cache\/?\*?$|^\/var\/cache\/?\*?$/;

function overlapping(edits: readonly Edit[]): boolean {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.start < sorted[i - 1]!.end) return true;
    if (
      sorted[i]!.start === sorted[i - 1]!.start &&
      sorted[i]!.start === sorted[i]!.end &&
      sorted[i - 1]!.start === sorted[i - 1]!.end
    ) {
      return true;
    }
  }
  return false;
}

/**
 * Passes that rewrite whole RUNs: chain-runs merges them, alpine-to-debian
 * turns apk into apt. A RUN one of them is about to rewrite this round gets
 * its mounts in the next round, from what it has become — so the result is
 * the same whichever pass the engine runs first (mounted RUNs with different
 * caches may not be mergeable any more, while a merged RUN simply gets the
 * union of what its commands use; an apk mount on a RUN that became apt
 * would be left behind).
 */
const REWRITERS: readonly Pass[] = [chainRuns, alpineToDebian];

function pendingRewrites(file: ParsedDockerfile, options: PassOptions): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const pass of REWRITERS) {
    if (!options.enabledPasses.has(pass.meta.id)) continue;
    try {
      for (const c of runPass(pass, file, options).changes) {
        if (c.safety === "safe") out.push(...c.edits.map((e) => ({ start: e.start, end: e.end })));
      }
    } catch {
      // A failing pass is reported by the engine; don't fail with it.
    }
  }
  return out;
}

function toChange(plan: RunPlan): Change | null {
  if (plan.edits.length === 0 || overlapping(plan.edits)) return null;
  const mounted = [...plan.specs.values()].filter((p) => p.state === "mount" && p.added.length > 0);
  const labels = [...new Set(mounted.map((p) => p.spec.label.replace(/ lists$/, "")))];
  const dirs = mounted.flatMap((p) => (p.state === "mount" ? p.added : []));
  const replaced = plan.removed.filter((r) => r.includes(" → "));
  const dropped = plan.removed.filter((r) => !r.includes(" → "));
  const parts: string[] = [];
  if (dirs.length > 0) {
    const many = dirs.length > 1;
    parts.push(
      `keep the ${labels.join(" and ")} cache${labels.length > 1 ? "s" : ""} in ${many ? "BuildKit cache mounts" : "a BuildKit cache mount"} (${dirs.join(", ")}): rebuilds reuse ${labels.length > 1 || many ? "them" : "it"} and the image doesn't carry ${labels.length > 1 || many ? "them" : "it"}`,
    );
  } else {
    parts.push("the RUN's cache mount already keeps the cache out of the image");
  }
  if (dropped.length > 0) {
    parts.push(`remove ${dropped.map((r) => `\`${r}\``).join(", ")}, which would bypass or empty the cache`);
  }
  for (const r of replaced) {
    const [from, to] = r.split(" → ");
    parts.push(`\`${from}\` becomes \`${to}\` (the index stays as fresh, the packages are cached)`);
  }
  if (plan.edits.some((e) => e.newText.includes("docker-clean"))) {
    parts.push("and stop the base image's docker-clean from deleting downloaded .debs");
  }
  const reason = parts.join("; ").replace(/^./, (c) => c.toUpperCase());
  return {
    pass: id,
    edits: plan.edits,
    reason,
    safety: plan.unsafe.length > 0 ? "unsafe" : "safe",
    ...(plan.unsafe.length > 0 ? { unsafeBecause: plan.unsafe.join("; ") } : {}),
  };
}

/**
 * `rm -f docker-clean && echo Keep-Downloaded-Packages > keep-cache && ` before
 * the first apt command of the first apt RUN of a stage family that gets an
 * apt cache mount, when the family doesn't have it yet and every later apt RUN
 * of the stage (and of stages built on it) has the mount too.
 */
function addAptRecipe(
  facts: FileFacts,
  inputs: readonly RunInput[],
  plans: Map<number, RunPlan>,
  deferred: ReadonlySet<number>,
): void {
  const planned = new Set<number>();
  for (const info of facts.infos) {
    const stageRuns = info.stage.instructions.filter((i) => i.keyword === "RUN");
    const hasArchives = (n: InstructionNode): boolean => {
      const p = plans.get(n.index)?.specs.get("apt-archives");
      return p?.state === "mount";
    };
    // A RUN another pass rewrites this round may become the first apt RUN: wait for it.
    const waiting = (n: InstructionNode): boolean => {
      if (!deferred.has(n.index)) return false;
      const input = inputs.find((x) => x.node === n);
      return input !== undefined && toolCalls(input.script).some((c) => callUsesCache(c, archivesSpec));
    };
    const first = stageRuns.find((n) => hasArchives(n) || waiting(n));
    if (!first || waiting(first)) {
      if (first) planned.add(info.stage.index);
      continue;
    }
    const plan = plans.get(first.index)!;
    // Already there: in an ancestor stage (as text, or planned in this run), or earlier in this stage.
    const before = [
      ...info.ancestors.flatMap((s) => s.instructions),
      ...info.stage.instructions.filter((i) => i.index < first.index),
    ]
      .filter((i) => i.keyword === "RUN")
      .map((i) => facts.file.text.slice(i.start, i.end))
      .join("\n");
    if (info.ancestors.some((a) => planned.has(a.index))) continue;
    const firstApt = [...plan.aptCalls].sort((a, b) => a.command.start - b.command.start)[0];
    if (!firstApt) continue;
    const inRun = plan.script.source.slice(0, firstApt.command.start);
    const needRm = !/apt\.conf\.d\/docker-clean/.test(before + inRun);
    const needKeep = !/Keep-Downloaded-Packages/.test(before + inRun);
    if (!needRm && !needKeep) continue;
    // Every later apt RUN of the family must keep the cache in a mount.
    const laterNodes = [
      ...info.stage.instructions.filter((i) => i.index > first.index || i.keyword === "ONBUILD"),
      ...info.descendants.flatMap((s) => s.instructions),
    ].filter((i) => i.keyword === "RUN" || onbuildRunBody(facts.file, i) !== null);
    const uncovered = laterNodes.find((n) => {
      if (n.keyword === "ONBUILD")
        return /\bapt(-get|-cache|-mark)?\b|\baptitude\b/.test(onbuildRunBody(facts.file, n)!);
      const input = inputs.find((x) => x.node === n);
      if (!input) return /\bapt(-get|-cache|-mark)?\b|\baptitude\b/.test(facts.file.text.slice(n.bodyStart, n.end));
      const calls = toolCalls(input.script).filter((c) => callUsesCache(c, archivesSpec));
      // Scripts that may run apt only cost layer size here, not correctness: count only sure ones.
      const env = envAt(facts.file, input.info, n).env;
      const opaque = opaqueCommands(input.script, env).some((o) => o.apt === "apt");
      return (calls.length > 0 || opaque) && !hasArchives(n);
    });
    if (uncovered) {
      plan.notes.push(
        `apt's docker-clean kept: the RUN at line ${uncovered.line} may run apt without a cache mount, and would then keep .debs and pkgcache.bin in its layer`,
      );
      continue;
    }
    const slot = enclosingTop(plan.script, firstApt.command);
    if (!slot || slot.statement.background) {
      plan.notes.push("apt's docker-clean kept: the first apt command runs in the background");
      continue;
    }
    const at =
      slot.pipelineIndex === 0 || slot.andOr.ops[slot.pipelineIndex - 1] === "&&"
        ? slot.andOr.pipelines[slot.pipelineIndex]!.start
        : slot.statement.start;
    const offset = plan.node.shell!.logical.fileOffsets[at]!;
    const recipe = [needRm ? DOCKER_CLEAN : null, needKeep ? KEEP_CACHE : null].filter(Boolean).join(" && ");
    plan.edits.push({ start: offset, end: offset, newText: `${recipe} && ` });
    planned.add(info.stage.index);
  }
}

/**
 * `ENV PIP_NO_CACHE_DIR=1` turns pip's cache off for every RUN after it: it
 * goes when every RUN it affects would get the pip mount without it.
 */
function envRemovals(facts: FileFacts, inputs: readonly RunInput[], skips: Skip[]): Change[] {
  const changes: Change[] = [];
  const lastStage = facts.file.stages[facts.file.stages.length - 1]!;
  for (const info of facts.infos) {
    for (const node of info.stage.instructions) {
      if (node.keyword !== "ENV") continue;
      const props = properties(facts.file, node);
      props.forEach((prop, k) => {
        for (const spec of CACHE_SPECS) {
          const d = spec.disablingEnv.find((x) => x.name === prop.name);
          if (!d || !disables(d.values, prop.value)) continue;
          // RUNs after it, until something sets it again, in the stage and stages built on it.
          const affected = inputs.filter(
            (x) => (x.info === info && x.node.index > node.index) || info.descendants.includes(x.info.stage),
          );
          const using = affected.filter((x) => toolCalls(x.script).some((c) => callUsesCache(c, spec)));
          if (using.length === 0) continue;
          const unmountable = using.find((x) => {
            const p = planRun(facts, x, { ignoreEnvDisable: new Set([spec.id]) })?.specs.get(spec.id);
            return !p || p.state !== "mount";
          });
          const opaque = [info.stage, ...info.descendants]
            .flatMap((s) => s.instructions)
            .find(
              (i) =>
                i.keyword === "RUN" &&
                i.index > node.index &&
                !inputs.some((x) => x.node === i) &&
                TOOL_MENTION.test(facts.file.text.slice(i.bodyStart, i.end)),
            );
          if (unmountable || opaque) {
            const line = (unmountable?.node ?? opaque)!.line;
            skips.push({
              pass: id,
              at: node.start,
              reason: `ENV ${prop.name} kept: the RUN at line ${line} could not get a ${spec.label} cache mount`,
            });
            continue;
          }
          const reachesFinal = info.stage === lastStage || info.descendants.includes(lastStage);
          changes.push({
            pass: id,
            edits: [propertyRemoval(facts.file, node, props, k)],
            reason: `ENV ${prop.name} turns ${spec.label}'s cache off; every RUN it affects can keep that cache in a BuildKit cache mount instead`,
            safety: reachesFinal ? "unsafe" : "safe",
            ...(reachesFinal
              ? {
                  unsafeBecause: `the final image's environment loses ${prop.name}: \`${spec.label}\` run in containers or in images built FROM this one would keep its cache again`,
                }
              : {}),
          });
        }
      });
    }
  }
  return changes;
}

function propertyRemoval(file: ParsedDockerfile, node: InstructionNode, props: readonly Property[], k: number): Edit {
  if (props.length === 1) {
    const start = file.lines.lineStart(file.lines.lineAt(node.start));
    const endLine = file.lines.lineAt(node.end);
    const next = file.lines.lineStart(endLine + 1);
    return { start, end: next > node.end ? next : file.text.length, newText: "" };
  }
  if (k === 0) return { start: props[0]!.start, end: props[1]!.start, newText: "" };
  return { start: props[k - 1]!.end, end: props[k]!.end, newText: "" };
}
