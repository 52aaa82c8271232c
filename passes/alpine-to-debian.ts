import type { InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import { fileRangeOf, logicalText } from "../src/logical.js";
import {
  parseShell,
  type AndOr,
  type Command,
  type Pipeline,
  type ShellScript,
  type ShellWord,
  type SimpleCommand,
  type Statement,
} from "../src/shell.js";
import { contextAt } from "../src/stage-facts.js";
import type { BuildContext, Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { DEBIAN_SLIM_PACKAGES, looksAlpine, resolveAlpineImage, type ImageFamily } from "./lib/alpine-images.js";
import {
  ALPINE_ONLY_GROUPS,
  ALPINE_ONLY_USERS,
  ASH_TO_BASH,
  BUSYBOX_APPLETS,
  DEBIAN_BASE_GROUPS,
  DEBIAN_BASE_USERS,
  RENAMED_BINARIES,
  ashOnlySyntax,
  translateAddgroup,
  translateAdduser,
} from "./lib/alpine-idioms.js";
import { APT_TABLE_RELEASE, apkPackageName, aptEquivalent } from "./lib/apk-to-apt.js";
import { isPython, packageManagerCall } from "./lib/package-managers.js";
import { normalizePath } from "./lib/cache-dirs.js";
import { replaceSpan } from "./lib/runs.js";

const id = "alpine-to-debian";

const APT_INSTALL = "apt-get update && apt-get install -y --no-install-recommends";
const APT_LISTS_CLEANUP = " && rm -rf /var/lib/apt/lists/*";
const APT_REMOVE = "apt-mark auto";
const APT_REMOVE_SUFFIX = " && apt-get autoremove -y --purge";
const APT_CACHE_MOUNTS =
  "--mount=type=cache,target=/var/cache/apt,sharing=locked --mount=type=cache,target=/var/lib/apt/lists,sharing=locked";
const SU_EXEC_SHIM = " && ln -s /usr/sbin/gosu /usr/local/bin/su-exec";
const TINI_SHIM = " && ln -sf /usr/bin/tini /sbin/tini";
const CHROMIUM_SHIM = " && ln -sf /usr/bin/chromium /usr/bin/chromium-browser";
/** Debian's sshd refuses to start without its privilege separation directory (systemd's tmpfiles create it on a host). */
const SSHD_DIR = " && mkdir -p /run/sshd";

/** apk options: whether they take a value, and what becomes of them on apt. */
const APK_OPTIONS: Readonly<
  Record<string, { readonly value: boolean; readonly action: "drop" | "unsafe" | "refuse" }>
> = {
  "--no-cache": { value: false, action: "drop" },
  "-U": { value: false, action: "drop" },
  "--update-cache": { value: false, action: "drop" },
  "--update": { value: false, action: "drop" },
  "-q": { value: false, action: "drop" },
  "--quiet": { value: false, action: "drop" },
  "-v": { value: false, action: "drop" },
  "--verbose": { value: false, action: "drop" },
  "--no-progress": { value: false, action: "drop" },
  "--progress": { value: false, action: "drop" },
  "-u": { value: false, action: "drop" },
  "--upgrade": { value: false, action: "drop" },
  "-l": { value: false, action: "drop" },
  "--latest": { value: false, action: "drop" },
  "-i": { value: false, action: "drop" },
  "--interactive": { value: false, action: "drop" },
  "--no-interactive": { value: false, action: "drop" },
  "--clean-protected": { value: false, action: "drop" },
  "--purge": { value: false, action: "drop" },
  "--force-refresh": { value: false, action: "drop" },
  "--wait": { value: true, action: "drop" },
  "--cache-dir": { value: true, action: "drop" },
  "--cache-max-age": { value: true, action: "drop" },
  "--virtual": { value: true, action: "drop" },
  "-t": { value: true, action: "drop" },
  "--allow-untrusted": { value: false, action: "unsafe" },
  "--force": { value: false, action: "unsafe" },
  "--force-overwrite": { value: false, action: "unsafe" },
  "--force-broken-world": { value: false, action: "unsafe" },
  "--force-non-repository": { value: false, action: "unsafe" },
  "--force-old-apk": { value: false, action: "unsafe" },
  "--no-scripts": { value: false, action: "unsafe" },
  "--no-check-certificate": { value: false, action: "unsafe" },
  "-r": { value: false, action: "unsafe" },
  "--rdepends": { value: false, action: "unsafe" },
  "-X": { value: true, action: "unsafe" },
  "--repository": { value: true, action: "unsafe" },
  "--repositories-file": { value: true, action: "unsafe" },
  "--keys-dir": { value: true, action: "unsafe" },
  "--arch": { value: true, action: "unsafe" },
  "-p": { value: true, action: "refuse" },
  "--root": { value: true, action: "refuse" },
  "--initdb": { value: false, action: "refuse" },
  "-s": { value: false, action: "refuse" },
  "--simulate": { value: false, action: "refuse" },
  "--no-network": { value: false, action: "refuse" },
};

/** Thrown inside the analysis of a group of stages: the group is skipped with this reason. */
class Refusal {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {}
}

// --- shell walking --------------------------------------------------------

interface Site {
  readonly command: SimpleCommand;
  readonly andOr: AndOr;
  readonly pipeline: Pipeline;
  readonly index: number;
  readonly statement: Statement;
  readonly siblings: readonly Statement[];
  readonly topLevel: boolean;
}

/** Simple commands in source order with where they sit; opaque compounds (subshells, functions) apart. */
function walk(statements: readonly Statement[], topLevel: boolean, sites: Site[], opaque: Command[]): void {
  for (const statement of statements) {
    const andOr = statement.andOr;
    andOr.pipelines.forEach((pipeline, index) => {
      for (const command of pipeline.commands) {
        if (command.kind === "simple") {
          sites.push({ command, andOr, pipeline, index, statement, siblings: statements, topLevel });
        } else if (command.inner.length > 0) {
          walk(command.inner, false, sites, opaque);
        } else {
          opaque.push(command);
        }
      }
    });
  }
}

function basename(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

// --- per-stage state --------------------------------------------------------

interface StageState {
  readonly family: ImageFamily | null;
  /** Debian packages of the image itself (never marked for removal); null when unknown. */
  readonly preinstalled: ReadonlySet<string> | null;
  /** Debian packages installed by this Dockerfile outside virtual groups. */
  readonly installed: Set<string>;
  /** Virtual groups (`apk add --virtual NAME`) still installed, with their Debian packages. */
  readonly groups: Map<string, string[]>;
  /** Alpine package names installed so far (decides the tini/su-exec renames). */
  readonly apkInstalled: Set<string>;
  caProvided: boolean;
  /** RUN bodies run under bash (a SHELL converted from ash, or set to bash). */
  shellIsBash: boolean;
  readonly users: Set<string>;
  readonly groupNames: Set<string>;
  implicitSystemIds: boolean;
  /** Absolute directories known to exist by now (WORKDIR, COPY destinations, mkdir). */
  readonly dirs: Set<string>;
  /** Compatibility links already added (a child stage inherits them). */
  readonly shims: Set<string>;
}

function cloneState(s: StageState): StageState {
  return {
    ...s,
    installed: new Set(s.installed),
    groups: new Map(s.groups),
    apkInstalled: new Set(s.apkInstalled),
    users: new Set(s.users),
    groupNames: new Set(s.groupNames),
    dirs: new Set(s.dirs),
    shims: new Set(s.shims),
  };
}

/** An `apk add` being rewritten; extras (ca-certificates, applet packages) may still be appended. */
interface InstallSite {
  readonly node: InstructionNode;
  readonly virtual: boolean;
  readonly commandStart: number;
  /** File offset after the command's last word. */
  readonly insertAt: number;
  readonly names: string[];
  /** Text placed after the package names (cleanup, closing brace). */
  suffix: string;
  extras: string[];
}

interface StageResult {
  readonly edits: Edit[];
  readonly unsafe: string[];
  readonly state: StageState;
}

interface Converter {
  readonly file: ParsedDockerfile;
  readonly options: PassOptions;
}

// --- the pass -------------------------------------------------------------

export const alpineToDebian: Pass = {
  meta: {
    id,
    title: "Alpine → Debian slim",
    summary: "Move Alpine-based stages to the image's Debian (slim) variant and translate apk and busybox idioms",
    defaultEnabled: true,
    doc: `## What it does
Rebases each Alpine stage on the Debian variant of the same official image
and translates what is Alpine-specific in it, as one change per group of
stages that share files:

- \`python:3.11-alpine\` → \`python:3.11-slim-bookworm\`, \`node:20-alpine\` →
  \`node:20-bookworm-slim\`, \`golang:1.22-alpine\` → \`golang:1.22-bookworm\`,
  \`ruby\`, \`php\` (\`php:8.2-fpm-alpine\` → \`php:8.2-fpm-bookworm\`),
  \`nginx\`, \`redis\`, \`postgres\`, and \`alpine:*\` → \`debian:bookworm-slim\`
  (the release is \`--debian-release\`, default bookworm). Only tags known to
  exist are produced (e.g. python 3.11 from 3.11.4 on has bookworm tags).
- \`apk add [--no-cache] [--virtual .name] pkgs\` → \`apt-get update && apt-get
  install -y --no-install-recommends <debian names> && rm -rf
  /var/lib/apt/lists/*\`, names from the typed apk→apt table
  (passes/lib/apk-to-apt.ts, every Debian name checked against the bookworm
  archive by test/apk-to-apt-archive.test.ts); \`apk update\` is dropped
  (each install updates its own lists); \`apk del .name\` marks exactly the
  packages of that virtual group as automatic and autoremoves them
  (\`apt-mark auto … && apt-get autoremove -y --purge\`), which, like apk,
  keeps a package another installed package still needs. Packages the
  Debian image already has, or that the Dockerfile installed outside the
  group, are never marked.
- busybox \`adduser\`/\`addgroup\` → \`useradd\`/\`groupadd\`/\`usermod\` with
  the same meaning for every flag (\`-S\` system, \`-D\` no password, \`-H\` no
  home, \`-h\` home, \`-s\` shell, \`-G\` primary group, \`-u\` uid, \`-g\`
  GECOS, \`-k\` skeleton).
- \`/sbin/tini\` → \`/usr/bin/tini\` and \`su-exec\` → \`gosu\` (same command
  line) when the stage installed them with apk; a \`su-exec\` symlink to gosu
  keeps scripts the pass cannot read working. \`SHELL ["/bin/ash", …]\` and
  \`ash\` invocations become bash, which accepts everything ash adds to sh.
- Commands Alpine's busybox provides and Debian's slim images lack (wget,
  ps, nc, unzip, xz…) get their Debian package installed; so does
  \`ca-certificates\` where the Debian image has no CA bundle (Alpine's
  base always has one).
- BuildKit cache mounts of apk's cache become apt's (\`/var/cache/apt\`,
  \`/var/lib/apt/lists\`, as the cache-mounts pass writes them), and the
  lists cleanup is then left out.

## Why
Alpine's musl libc cannot use the manylinux wheels PyPI serves, so
\`pip install\` compiles numpy, pandas, cryptography… from source: builds
take minutes instead of seconds and need a compiler toolchain in the image
(guide 003: "Alpine images … don't use wheel files, so can take really long
for python builds"; guide 001: "Switching to Debian"). Debian's larger
package archive also avoids the missing-package dead ends guide 001 warns of.

## Example
\`\`\`dockerfile
FROM python:3.7-alpine
RUN apk add --no-cache --virtual .build-deps build-base libffi-dev && \\
    pip install --no-cache-dir -r requirements.txt && \\
    apk del .build-deps
\`\`\`
becomes
\`\`\`dockerfile
FROM python:3.7-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libffi-dev && rm -rf /var/lib/apt/lists/* && \\
    pip install --no-cache-dir -r requirements.txt && \\
    apt-mark auto build-essential libffi-dev && apt-get autoremove -y --purge
\`\`\`

## Safety
"Unsafe" means unproven, not certain to fail: a change certain to break the
build is skipped (with the reason), even with \`--unsafe\`.

Translated so the meaning holds (safe):
- apk's cache and config paths: \`rm\` of anything under \`/var/cache/apk\` or
  \`/etc/apk\` is dropped (it becomes \`true\` where a comment line in the
  continuation keeps it from being taken out);
- Alpine's group \`nobody\` is Debian's \`nogroup\` (both gid 65534): \`chown\`,
  \`chgrp\`, \`COPY --chown\` and \`USER\` are rewritten;
- busybox \`adduser\` chowns its home to the user and chmods it 02755 even when
  it exists, \`useradd --create-home\` leaves an existing one to root: when the
  home may exist (WORKDIR, COPY or mkdir into it, a directory of Debian's base,
  a home that expands at build time) \`&& chown USER: HOME && chmod 2755 HOME\`
  follows;
- links for paths Alpine's packages have and Debian's lack, for what the pass
  cannot rewrite (scripts, \`sh -c\` strings, environment values):
  \`/sbin/tini\` → \`/usr/bin/tini\`, \`su-exec\` → gosu, \`chromium-browser\` →
  \`chromium\`; and \`mkdir -p /run/sshd\`, without which Debian's sshd does not
  start (systemd's tmpfiles create it on a host).

Unsafe, and says why:
- a version pin (\`pkg=1.2-r0\`) or a repository tag (\`pkg@edge\`), or a Debian package that differs:
  language runtimes whose version follows the distribution, servers whose
  config layout or version moves (nginx, apache2, redis, supervisor, haproxy,
  mosquitto, lighttpd, postfix, stunnel), openssh-server (Debian generates host
  keys at install time, so they are baked into the image), docker-cli (Debian
  only has docker.io, with the daemon);
- a tag that froze its version with an Alpine release and has none of its own,
  an alias or a single number (\`golang:alpine3.7\`, \`python:3-alpine3.8\`,
  \`node:lts-alpine3.19\`): the Debian tag follows the newest version;
- RUN/CMD syntax busybox ash accepts and Debian's dash rejects
  (\`[[ ]]\`, \`==\` in \`[ ]\`, \`echo -e\`, \`set -o pipefail\`, \`\${v/a/b}\`…);
- \`apk upgrade\` (→ \`apt-get upgrade -y\`: a different package set);
- users or groups only Alpine's base image has (\`guest\`, \`squid\`, \`cron\`,
  \`wheel\`…) in USER, chown/chgrp, \`COPY --chown\`, su/su-exec/gosu or
  adduser, unless the Dockerfile creates them; system users/groups created
  without an explicit id when the stage also uses numeric ids (busybox counts
  system ids up from 100, Debian down from 999), ids or names Debian's base
  already uses;
- extracting an archive into \`/\` (or \`/bin\`, \`/lib\`, \`/sbin\`): \`tar -C /\`,
  \`cd /\`, WORKDIR \`/\` or no WORKDIR (alpine's and most official images'
  default is \`/\`), \`ADD x.tar.gz /\`. Debian's \`/bin\`, \`/lib\` and \`/sbin\`
  are symlinks into \`/usr\` and GNU tar replaces them with directories when
  the archive has them (s6-overlay's tarballs do);
- downloads of musl builds: a URL in RUN/ADD, or an ARG/ENV value, naming
  \`musl\` or \`alpine\` (a musl JDK does not run on glibc);
- commands on apk's paths whose failure does not fail the RUN (after \`||\`,
  not last), and \`test\`/\`echo\` naming them;
- files copied between a converted stage and one that stays as it is
  (binaries built against glibc do not run on musl or \`scratch\`, unless
  the stage builds with \`CGO_ENABLED=0\`);
- images whose Debian variant differs visibly (php's www-data uid, postgres
  and redis ids), and copied scripts with \`#!/bin/ash\`.

Skipped (certain to fail, or not translatable):
- an apk package the table does not know (\`python\`, \`py-pip\`, \`php7-*\`,
  \`openjdk8-jre\`…), or a package list that expands at build time
  (\`$DEPS\`, whose apk names can't be translated): apt-get would stop at
  "Unable to locate package";
- a command that uses \`/etc/apk\` or \`/var/cache/apk\` (\`echo … >>
  /etc/apk/repositories\`, \`sed -i\` on it, \`ls /var/cache/apk\`), \`pip install\`
  into Debian's system Python (PEP 668 refuses it) and busybox \`date -D\`,
  when its failure fails the RUN (only \`&&\` around it, in the RUN's last
  list or under \`set -e\`);
- digest-pinned FROMs, \`FROM $VAR\`, images with no known Debian twin or tag,
  \`apk --root/--initdb\`, apk inside subshells or functions, RUNs that do not
  parse.

Not covered: prebuilt binaries COPYed from the build context into a
converted stage (usually static Go, but a cgo build made on Alpine is
musl-linked; nothing in the Dockerfile tells).

## References
- guides 001 (Switching to Debian), 003 (musl and wheels), 004 (virtual build deps)
- https://pythonspeed.com/articles/alpine-docker-python/
- busybox adduser/addgroup: https://git.busybox.net/busybox/tree/loginutils/adduser.c
- Docker official images: https://github.com/docker-library/official-images
`,
  },
  run(file, options): PassResult {
    return convertFile({ file, options });
  },
};

type StageKind =
  | { readonly kind: "child"; readonly parent: number }
  | {
      readonly kind: "convert";
      readonly image: string;
      readonly family: ImageFamily | null;
      readonly unsafe: string | undefined;
    }
  | { readonly kind: "refuse"; readonly reason: string }
  | { readonly kind: "variable" }
  | { readonly kind: "other" };

function classify(file: ParsedDockerfile, stage: Stage, release: string): StageKind {
  const image = stage.image;
  const parent = file.stages.findIndex(
    (s) => s.index < stage.index && s.name !== null && s.name === image.toLowerCase(),
  );
  if (parent >= 0) return { kind: "child", parent };
  if (image.includes("$")) return { kind: "variable" };
  const resolved = resolveAlpineImage(image, release);
  if (resolved.kind === "convert") {
    return { kind: "convert", image: resolved.image, family: resolved.family, unsafe: resolved.unsafe };
  }
  if (resolved.kind === "refuse") return { kind: "refuse", reason: resolved.reason };
  return { kind: "other" };
}

function usesApk(file: ParsedDockerfile, stage: Stage): boolean {
  return stage.instructions.some((i) => {
    if (i.keyword !== "RUN") return false;
    if (!i.shell?.parse.ok) return /(^|[\s;&|(])apk\s/.test(file.text.slice(i.start, i.end));
    const sites: Site[] = [];
    const opaque: Command[] = [];
    walk(i.shell.parse.script.statements, true, sites, opaque);
    return (
      sites.some((s) => packageManagerCall(s.command)?.manager === "apk") ||
      opaque.some((o) => /(^|[\s;&|(])apk\s/.test(i.shell!.logical.text.slice(o.start, o.end)))
    );
  });
}

/** Stage indexes a stage takes files from (COPY --from, RUN --mount=from=). */
function sourcesOf(
  file: ParsedDockerfile,
  stage: Stage,
): { stage: number | null; ref: string; node: InstructionNode }[] {
  const out: { stage: number | null; ref: string; node: InstructionNode }[] = [];
  const resolve = (ref: string): number | null => {
    if (/^\d+$/.test(ref)) {
      const n = Number(ref);
      return n < stage.index ? n : null;
    }
    const found = file.stages.find((s) => s.index < stage.index && s.name === ref.toLowerCase());
    return found ? found.index : null;
  };
  for (const node of stage.instructions) {
    for (const flag of node.flags) {
      if (flag.name === "from" && flag.value) out.push({ stage: resolve(flag.value), ref: flag.value, node });
      if (flag.name === "mount") {
        const from = flag.options.get("from");
        if (from) out.push({ stage: resolve(from), ref: from, node });
      }
    }
  }
  return out;
}

function convertFile(c: Converter): PassResult {
  const { file, options } = c;
  const release = options.debianRelease;
  const kinds = file.stages.map((s) => classify(file, s, release));
  const rootOf = (i: number): number => {
    const k = kinds[i]!;
    return k.kind === "child" ? rootOf(k.parent) : i;
  };
  // Stages that share files must move together: union parents and COPY --from sources.
  const parent = file.stages.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const union = (a: number, b: number) => {
    parent[find(a)] = find(b);
  };
  const edges: { from: number; to: number }[] = [];
  const externalSources: { to: number; ref: string }[] = [];
  file.stages.forEach((stage, i) => {
    const k = kinds[i]!;
    if (k.kind === "child") union(i, k.parent);
    for (const src of sourcesOf(file, stage)) {
      if (src.stage !== null) {
        union(i, src.stage);
        edges.push({ from: src.stage, to: i });
      } else {
        externalSources.push({ to: i, ref: src.ref });
      }
    }
  });

  const changes: Change[] = [];
  const skips: Skip[] = [];
  const convertible = (i: number) => kinds[rootOf(i)]!.kind === "convert";
  const components = new Map<number, number[]>();
  file.stages.forEach((_, i) => {
    const r = find(i);
    components.set(r, [...(components.get(r) ?? []), i]);
  });

  for (const members of components.values()) {
    const toConvert = members.filter(convertible);
    const reportStage = (i: number) => {
      const stage = file.stages[i]!;
      const k = kinds[rootOf(i)]!;
      if (kinds[i]!.kind === "child") return;
      if (k.kind === "refuse" && (looksAlpine(stage.image) || usesApk(file, stage))) {
        skips.push({ pass: id, at: stage.from.start, reason: k.reason });
      } else if (k.kind === "variable" && usesApk(file, stage)) {
        skips.push({
          pass: id,
          at: stage.from.start,
          reason: `FROM ${stage.image}: the image is chosen at build time, so its Debian variant is unknown`,
        });
      } else if (k.kind === "other" && usesApk(file, stage)) {
        skips.push({
          pass: id,
          at: stage.from.start,
          reason: `FROM ${stage.image}: uses apk, but the image has no known Debian variant`,
        });
      }
    };
    if (toConvert.length === 0) {
      members.forEach(reportStage);
      continue;
    }
    const unsafe: string[] = [];
    // Files crossing between a stage that stays (musl, if Alpine) and a converted one (glibc):
    // a dynamically linked program built on one side does not run on the other. Unless the
    // side that built them is provably static (CGO_ENABLED=0), the group is left alone.
    let crossing: string | null = null;
    for (const i of members) {
      if (convertible(i)) continue;
      const stage = file.stages[i]!;
      const k = kinds[rootOf(i)]!;
      const label = stageLabel(stage);
      const incoming = edges.filter((e) => e.to === i && convertible(e.from));
      const outgoing = edges.filter((e) => e.from === i && convertible(e.to));
      if (k.kind === "refuse" || k.kind === "variable") {
        reportStage(i);
        if (outgoing.length > 0 && !buildsStatic(file, i, rootOf)) {
          crossing ??= `stage ${label} stays on its image and converted stages copy files from it: programs built there may be musl-linked and fail on Debian`;
        } else {
          unsafe.push(`stage ${label} stays on its image and shares files with the converted stages (musl vs glibc)`);
        }
      }
      // A stage that stays as it is: what it receives from converted stages must run there.
      if (incoming.length > 0 && !incoming.every((e) => buildsStatic(file, e.from, rootOf))) {
        crossing ??= `stage ${label} (FROM ${stage.image}) stays as it is and copies files from a converted stage: programs built on Debian link against glibc`;
      }
    }
    if (crossing !== null) {
      const first = file.stages[Math.min(...toConvert)]!;
      skips.push({ pass: id, at: first.from.start, reason: `${crossing}; left as it is` });
      continue;
    }
    for (const ext of externalSources) {
      if (toConvert.includes(ext.to) && looksAlpine(ext.ref)) {
        unsafe.push(`stage ${stageLabel(file.stages[ext.to]!)} copies from ${ext.ref}, an Alpine (musl) image`);
      }
    }
    if (release !== APT_TABLE_RELEASE && toConvert.some((i) => usesApk(file, file.stages[i]!))) {
      unsafe.push(`the apk→apt table is checked against Debian ${APT_TABLE_RELEASE}, not ${release}`);
    }
    try {
      const states = new Map<number, StageState>();
      const edits: Edit[] = [];
      const moves: string[] = [];
      for (const i of toConvert.sort((a, b) => a - b)) {
        const stage = file.stages[i]!;
        const k = kinds[i]!;
        let state: StageState;
        if (k.kind === "convert") {
          // ca-certificates counts as the image's own: Alpine's base keeps its
          // CA bundle whatever apk del removes, and the pass installs it where
          // the Debian image lacks one.
          const preinstalled =
            k.family === null
              ? new Set([...DEBIAN_SLIM_PACKAGES, "ca-certificates"])
              : k.family.preinstalled === null
                ? null
                : new Set([...DEBIAN_SLIM_PACKAGES, ...k.family.preinstalled, "ca-certificates"]);
          state = {
            family: k.family,
            preinstalled,
            installed: new Set(),
            groups: new Map(),
            apkInstalled: new Set(),
            caProvided: k.family?.caCertificates ?? false,
            shellIsBash: false,
            users: new Set(),
            groupNames: new Set(),
            implicitSystemIds: false,
            dirs: new Set(),
            shims: new Set(),
          };
          if (k.family?.unsafe) unsafe.push(k.family.unsafe);
          if (k.unsafe) unsafe.push(k.unsafe);
          moves.push(`${stage.image} → ${k.image}`);
        } else {
          const p = (kinds[i] as { parent: number }).parent;
          state = cloneState(states.get(p)!);
        }
        const result = convertStage(c, stage, k.kind === "convert" ? k.image : null, state);
        edits.push(...result.edits);
        unsafe.push(...result.unsafe);
        states.set(i, result.state);
      }
      if (edits.length === 0) continue;
      const unique = [...new Set(unsafe)];
      changes.push({
        pass: id,
        edits,
        reason: `Rebase ${moves.join(", ")} and translate apk/busybox idioms: Debian (glibc) installs prebuilt wheels and binaries that Alpine (musl) compiles from source`,
        safety: unique.length > 0 ? "unsafe" : "safe",
        ...(unique.length > 0 ? { unsafeBecause: unique.join("; ") } : {}),
      });
    } catch (error) {
      if (!(error instanceof Refusal)) throw error;
      skips.push({ pass: id, at: error.at, reason: error.reason });
    }
  }
  return { changes, skips };
}

function stageLabel(stage: Stage): string {
  return stage.name ?? String(stage.index);
}

/** Whether a stage (or its parents) builds Go without cgo, so its binaries are static. */
function buildsStatic(file: ParsedDockerfile, i: number, rootOf: (i: number) => number): boolean {
  let cursor: number | null = i;
  const seen = new Set<number>();
  while (cursor !== null && !seen.has(cursor)) {
    seen.add(cursor);
    const stage: Stage = file.stages[cursor]!;
    if (stage.instructions.some((n) => /\bCGO_ENABLED=0\b|\bCGO_ENABLED\s+0\b/.test(file.text.slice(n.start, n.end)))) {
      return true;
    }
    const root = rootOf(cursor);
    if (root === cursor) break;
    cursor = file.stages.findIndex((s) => s.name !== null && s.name === stage.image.toLowerCase());
    if (cursor < 0) cursor = null;
  }
  return false;
}

// --- one stage --------------------------------------------------------------

function convertStage(c: Converter, stage: Stage, newImage: string | null, state: StageState): StageResult {
  const { file } = c;
  const edits: Edit[] = [];
  const unsafe: string[] = [];
  const installs: InstallSite[] = [];
  const family = state.family;
  let installsAnything = false;
  let numericIds = false;
  let firstRun: InstructionNode | null = null;
  /** Earliest file offset where a RUN needs a package it does not have yet. */
  let earliestNeed = Number.POSITIVE_INFINITY;
  const needed = new Set<string>();
  let suExecSite: InstallSite | null = null;

  const has = (pkg: string) =>
    (state.preinstalled?.has(pkg) ?? false) ||
    state.installed.has(pkg) ||
    [...state.groups.values()].some((g) => g.includes(pkg));

  const useCommand = (name: string | null, at: number, runtime: boolean) => {
    if (name === null) return;
    const base = basename(name);
    const applet = BUSYBOX_APPLETS[base];
    if (!applet || has(applet.debian)) return;
    if (applet.unsafe) unsafe.push(applet.unsafe);
    needed.add(applet.debian);
    if (!runtime) earliestNeed = Math.min(earliestNeed, at);
  };

  const renameWord = (node: InstructionNode, word: ShellWord) => {
    const v = word.value;
    if (v === null) return;
    const renamed = RENAMED_BINARIES[v];
    if (renamed && state.apkInstalled.has(renamed.apk)) edits.push(replaceSpan(node, word, renamed.to));
  };

  for (const node of stage.instructions) {
    switch (node.keyword) {
      case "FROM": {
        if (newImage !== null) {
          const arg = node.args[0]!;
          edits.push({ start: arg.start, end: arg.end, newText: newImage });
        }
        break;
      }
      case "SHELL": {
        const program = node.execArgs?.[0];
        if (program !== undefined && ASH_TO_BASH[program]) {
          edits.push(...jsonStringEdits(file, node, (v, i) => (i === 0 ? ASH_TO_BASH[v] : undefined)));
          state.shellIsBash = true;
        } else {
          state.shellIsBash = program !== undefined && basename(program) === "bash";
        }
        break;
      }
      case "RUN": {
        firstRun ??= node;
        // apk's cache mounts become apt's, in the same place (the order the
        // cache-mounts pass gives mounts: by first use in the RUN).
        let aptMounted = false;
        for (const flag of node.flags) {
          if (flag.name === "mount" && flag.options.get("type") === "cache") {
            const target = (
              flag.options.get("target") ??
              flag.options.get("dst") ??
              flag.options.get("destination") ??
              ""
            ).replace(/\/+$/, "");
            if (target !== "/var/cache/apk" && target !== "/etc/apk/cache") continue;
            if (aptMounted) edits.push(removeFlag(file, node, flag));
            else edits.push({ start: flag.start, end: flag.end, newText: APT_CACHE_MOUNTS });
            aptMounted = true;
          }
        }
        if (node.form === "exec") {
          const args = node.execArgs ?? [];
          if (args[0] !== undefined && basename(args[0]) === "apk") {
            throw new Refusal(
              node.start,
              `exec-form RUN at line ${node.line} runs apk; rewrite it in shell form first`,
            );
          }
          edits.push(...execFormEdits(file, node, state));
          checkInlineScript(args, state, unsafe, (n) => useCommand(n, node.start, false), node);
          break;
        }
        if (node.form !== "shell" || !node.shell) {
          if (/\bapk\b/.test(file.text.slice(node.start, node.end))) {
            throw new Refusal(node.start, `RUN at line ${node.line} (heredoc) runs apk; not translated`);
          }
          break;
        }
        if (!node.shell.parse.ok) {
          if (/\b(apk|adduser|addgroup|su-exec)\b/.test(node.shell.logical.text)) {
            throw new Refusal(
              node.start,
              `RUN at line ${node.line} does not parse as shell (${node.shell.parse.error})`,
            );
          }
          unsafe.push(`RUN at line ${node.line} does not parse, so it is not checked for ash-only syntax`);
          break;
        }
        const script = node.shell.parse.script;
        const r = convertRun(c, node, script, state, useCommand, renameWord, aptMounted);
        // A RUN that only ran `apk update` disappears; the next one counts as first.
        if (firstRun === node && r.edits.some((e) => e.start <= node.start && e.end >= node.end)) firstRun = null;
        edits.push(...r.edits);
        unsafe.push(...r.unsafe);
        installs.push(...r.installs);
        if (r.installs.length > 0) installsAnything = true;
        if (r.numericIds) numericIds = true;
        suExecSite ??= r.installs.find((s) => !s.virtual && s.names.includes("gosu")) ?? null;
        break;
      }
      case "CMD":
      case "ENTRYPOINT": {
        if (node.form === "exec") {
          edits.push(...execFormEdits(file, node, state));
          const args = node.execArgs ?? [];
          useCommand(args[0] ?? null, node.start, true);
          checkInlineScript(args, state, unsafe, (n) => useCommand(n, node.start, true), node);
        } else if (node.shell?.parse.ok) {
          const script = node.shell.parse.script;
          const sites: Site[] = [];
          walk(script.statements, true, sites, []);
          for (const site of sites) {
            useCommand(site.command.name, node.start, true);
            for (const w of site.command.words) renameWord(node, w);
            const ash = site.command.words[0];
            if (ash?.value && ASH_TO_BASH[ash.value]) edits.push(replaceSpan(node, ash, ASH_TO_BASH[ash.value]!));
          }
          if (!state.shellIsBash) {
            for (const what of ashOnlySyntax(script))
              unsafe.push(`${node.keyword} at line ${node.line} uses ${what}, which dash rejects`);
          }
        }
        break;
      }
      case "HEALTHCHECK": {
        const script = healthcheckScript(file, node);
        if (script?.kind === "exec") useCommand(script.args[0] ?? null, node.start, true);
        if (script?.kind === "shell") {
          const sites: Site[] = [];
          walk(script.script.statements, true, sites, []);
          for (const site of sites) useCommand(site.command.name, node.start, true);
          if (!state.shellIsBash) {
            for (const what of ashOnlySyntax(script.script))
              unsafe.push(`HEALTHCHECK at line ${node.line} uses ${what}, which dash rejects`);
          }
        }
        break;
      }
      case "USER": {
        const arg = node.args[0];
        if (/(^|:)\d+($|:)/.test(arg?.value ?? "")) numericIds = true;
        if (arg && !arg.value.includes("$") && node.args.length === 1) {
          const r = ownerSpec(arg.value, state, false);
          if (r.rewrite !== null) edits.push({ start: arg.start, end: arg.end, newText: r.rewrite });
          for (const u of r.unsafe) unsafe.push(`USER at line ${node.line}: ${u}`);
        }
        break;
      }
      case "WORKDIR": {
        const dir = contextAt(file, node).workdir;
        const arg = node.args[0]?.value;
        if (arg !== undefined) {
          const resolved = arg.startsWith("/") ? arg : dir === null ? null : joinPath(dir, arg);
          if (resolved !== null) addDir(state.dirs, resolved);
        }
        break;
      }
      case "COPY":
      case "ADD": {
        const chown = node.flags.find((f) => f.name === "chown");
        if (chown?.value && /(^|:)\d+($|:)/.test(chown.value)) numericIds = true;
        if (chown?.value && !chown.value.includes("$")) {
          const r = ownerSpec(chown.value, state, false);
          const flagText = file.text.slice(chown.start, chown.end);
          if (r.rewrite !== null && flagText === `--chown=${chown.value}`) {
            edits.push({ start: chown.start, end: chown.end, newText: `--chown=${r.rewrite}` });
          } else if (r.rewrite !== null) {
            unsafe.push(`${node.keyword} at line ${node.line}: group nobody is nogroup on Debian`);
          }
          for (const u of r.unsafe) unsafe.push(`${node.keyword} at line ${node.line}: ${u}`);
        }
        const args = node.execArgs ?? node.args.map((a) => a.value);
        const dest = args[args.length - 1];
        if (dest !== undefined && args.length >= 2) {
          const workdir = contextAt(file, node).workdir;
          const resolved = dest.startsWith("/") ? dest : workdir === null ? null : joinPath(workdir, dest);
          if (resolved !== null) addDir(state.dirs, resolved);
          const archives = args
            .slice(0, -1)
            .filter(
              (a) => !/^[a-z]+:\/\//i.test(a) && /\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst|lz|lzma|Z))$/i.test(a),
            );
          const fromStage = node.flags.some((f) => f.name === "from");
          if (
            node.keyword === "ADD" &&
            !fromStage &&
            archives.length > 0 &&
            (resolved === null || ROOT_DIRS.has(normalizePath(resolved)))
          ) {
            unsafe.push(
              `ADD at line ${node.line} unpacks ${archives[0]} into ${resolved ?? dest}: Debian's /bin, /lib and /sbin are symlinks into /usr, which an archive with those directories replaces`,
            );
          }
        }
        break;
      }
      case "ONBUILD": {
        if (/\b(apk|adduser|addgroup|su-exec)\b/.test(file.text.slice(node.start, node.end))) {
          unsafe.push(`ONBUILD at line ${node.line} runs Alpine commands in images built from this one`);
        }
        break;
      }
    }
  }

  if (state.implicitSystemIds && numericIds) {
    unsafe.push(
      "a system user or group is created without an explicit id (busybox counts up from 100, Debian down from 999) and the stage uses numeric ids",
    );
  }

  // Copied scripts the pass can read: Alpine-only shebangs, and su-exec callers.
  const scripts = copiedTexts(c.options.buildContext, stage);
  for (const s of scripts.texts) {
    if (/^#!\s*\/bin\/ash\b/.test(s.text)) unsafe.push(`${s.path} starts with #!/bin/ash, which Debian does not have`);
    if (/^\s*apk\s/m.test(s.text)) unsafe.push(`${s.path} runs apk`);
  }
  if (suExecSite && (scripts.unknown || scripts.texts.some((s) => s.text.includes("su-exec")))) {
    suExecSite.suffix += SU_EXEC_SHIM;
  }
  // Paths Alpine's packages have and Debian's lack, for what the pass cannot
  // rewrite (scripts, sh -c strings, environment values): links or the
  // directory the Debian program needs.
  const stageText = stage.instructions.map((n) => file.text.slice(n.start, n.end)).join("\n");
  const addShim = (pkg: string, shim: string, wanted: boolean) => {
    if (!wanted || state.shims.has(shim)) return;
    const site = installs.find((s) => !s.virtual && s.names.includes(pkg));
    if (!site) return;
    site.suffix += shim;
    state.shims.add(shim);
  };
  addShim(
    "tini",
    TINI_SHIM,
    scripts.unknown || scripts.texts.some((s) => s.text.includes("/sbin/tini")) || stageText.includes("/sbin/tini"),
  );
  addShim("chromium", CHROMIUM_SHIM, true);
  addShim("openssh-server", SSHD_DIR, true);

  // Prebuilt musl binaries: downloads (or ARG/ENV values) naming musl or Alpine builds.
  for (const what of muslDownloads(file, stage)) {
    unsafe.push(`${what}: a musl (Alpine) build does not run on Debian's glibc`);
  }

  // ca-certificates: every Alpine image has the CA bundle; some Debian images
  // do not. Installing it with the stage's first RUN is early enough.
  const caNeeded =
    !state.caProvided && (family === null || installsAnything) && !state.installed.has("ca-certificates");
  state.caProvided = true;
  const extras = [...[...needed].filter((p) => !has(p)), ...(caNeeded ? ["ca-certificates"] : [])].sort();
  if (extras.length > 0) {
    const target = installs.find((s) => !s.virtual && s.node === firstRun && s.commandStart <= earliestNeed);
    if (target) {
      target.extras.push(...extras.filter((p) => !target.names.includes(p)));
    } else {
      edits.push(newInstallRun(file, stage, extras));
    }
    for (const p of extras) state.installed.add(p);
  }
  for (const site of installs) {
    const text = site.extras.map((p) => ` ${p}`).join("") + site.suffix;
    if (text !== "") edits.push({ start: site.insertAt, end: site.insertAt, newText: text });
  }
  return { edits, unsafe, state };
}

/** `RUN apt-get … <packages>` on its own line right after the stage's FROM. */
function newInstallRun(file: ParsedDockerfile, stage: Stage, packages: readonly string[]): Edit {
  const run = `RUN ${APT_INSTALL} ${packages.join(" ")}${APT_LISTS_CLEANUP}`;
  const lineEnd = file.lines.lineEnd(file.lines.lineAt(stage.from.end));
  return { start: lineEnd, end: lineEnd, newText: `${file.eol}${run}` };
}

function removeFlag(file: ParsedDockerfile, node: InstructionNode, flag: { start: number; end: number }): Edit {
  let end = flag.end;
  while (end < node.end && (file.text[end] === " " || file.text[end] === "\t")) end++;
  if (file.text[end] === file.escapeChar) {
    let after = end + 1;
    while (after < node.end && (file.text[after] === " " || file.text[after] === "\t")) after++;
    if (file.text[after] === "\r" || file.text[after] === "\n") {
      after += file.text[after] === "\r" && file.text[after + 1] === "\n" ? 2 : 1;
      while (after < node.end && (file.text[after] === " " || file.text[after] === "\t")) after++;
      end = after;
    }
  }
  return { start: flag.start, end, newText: "" };
}

/** Edits to the JSON strings of an exec-form instruction. */
function jsonStringEdits(
  file: ParsedDockerfile,
  node: InstructionNode,
  map: (value: string, index: number) => string | undefined,
): Edit[] {
  const ast = node.ast as unknown as {
    getJSONStrings?: () => {
      getJSONValue(): string;
      getRange(): { start: { line: number; character: number }; end: { line: number; character: number } };
    }[];
  };
  if (!ast.getJSONStrings) return [];
  const edits: Edit[] = [];
  ast.getJSONStrings().forEach((s, i) => {
    const to = map(s.getJSONValue(), i);
    if (to === undefined) return;
    const r = s.getRange();
    edits.push({ start: file.lines.offsetAt(r.start), end: file.lines.offsetAt(r.end), newText: JSON.stringify(to) });
  });
  return edits;
}

function execFormEdits(file: ParsedDockerfile, node: InstructionNode, state: StageState): Edit[] {
  return jsonStringEdits(file, node, (v, i) => {
    const renamed = RENAMED_BINARIES[v];
    if (renamed && state.apkInstalled.has(renamed.apk)) return renamed.to;
    if (i === 0 && ASH_TO_BASH[v]) return ASH_TO_BASH[v];
    return undefined;
  });
}

/** `["sh", "-c", "script"]`: check the script like a RUN body. */
function checkInlineScript(
  args: readonly string[],
  state: StageState,
  unsafe: string[],
  use: (name: string | null) => void,
  node: InstructionNode,
): void {
  const shell = args[0] ? basename(args[0]) : "";
  if (!["sh", "ash", "bash"].includes(shell) || !args[1]?.startsWith("-") || !args[1].includes("c")) return;
  const body = args[2];
  if (body === undefined) return;
  if (/\b(apk|adduser|addgroup)\b/.test(body)) {
    throw new Refusal(
      node.start,
      `${node.keyword} at line ${node.line} runs Alpine commands inside sh -c; not translated`,
    );
  }
  const parsed = parseShell(body);
  if (!parsed.ok) return;
  const sites: Site[] = [];
  walk(parsed.script.statements, true, sites, []);
  for (const site of sites) use(site.command.name);
  if (shell === "sh" && !state.shellIsBash) {
    for (const what of ashOnlySyntax(parsed.script))
      unsafe.push(`${node.keyword} at line ${node.line} uses ${what}, which dash rejects`);
  }
}

type HealthScript = { kind: "exec"; args: string[] } | { kind: "shell"; script: ShellScript };

function healthcheckScript(file: ParsedDockerfile, node: InstructionNode): HealthScript | null {
  const text = file.text.slice(node.bodyStart, node.end);
  const m = /^([\s\S]*?\b)?CMD\s+/i.exec(text);
  if (!m) return null;
  const start = node.bodyStart + m[0].length;
  const logical = logicalText(file.text, start, node.end, file.escapeChar);
  const body = logical.text.trim();
  if (body.startsWith("[")) {
    try {
      const args: unknown = JSON.parse(body);
      if (Array.isArray(args) && args.every((a) => typeof a === "string"))
        return { kind: "exec", args: args as string[] };
    } catch {
      return null;
    }
    return null;
  }
  const parsed = parseShell(logical.text);
  return parsed.ok ? { kind: "shell", script: parsed.script } : null;
}

/** Text of files the stage copies from the build context, when the CLI can read them. */
function copiedTexts(
  context: BuildContext | null,
  stage: Stage,
): { texts: { path: string; text: string }[]; unknown: boolean } {
  const texts: { path: string; text: string }[] = [];
  let unknown = false;
  for (const node of stage.instructions) {
    if (node.keyword !== "COPY" && node.keyword !== "ADD") continue;
    if (node.flags.some((f) => f.name === "from")) continue;
    const sources = node.execArgs ? node.execArgs.slice(0, -1) : node.args.slice(0, -1).map((a) => a.value);
    for (const source of sources) {
      if (/^[a-z]+:\/\//i.test(source)) continue;
      if (context === null || /[*?[]/.test(source)) {
        unknown = true;
        continue;
      }
      const text = context.readText(source.replace(/^\.\//, ""));
      if (text === null) {
        // A directory (or an unreadable file): its scripts are unknown.
        unknown = true;
        continue;
      }
      texts.push({ path: source, text });
    }
  }
  return { texts, unknown };
}

// --- one RUN ----------------------------------------------------------------

interface RunResult {
  readonly edits: Edit[];
  readonly unsafe: string[];
  readonly installs: InstallSite[];
  readonly numericIds: boolean;
}

const ALPINE_COMMANDS = /\b(apk|adduser|addgroup|deluser|delgroup|su-exec)\b|\/sbin\/tini/;

function convertRun(
  c: Converter,
  node: InstructionNode,
  script: ShellScript,
  state: StageState,
  useCommand: (name: string | null, at: number, runtime: boolean) => void,
  renameWord: (node: InstructionNode, word: ShellWord) => void,
  listsMounted: boolean,
): RunResult {
  const { file } = c;
  const edits: Edit[] = [];
  const unsafe: string[] = [];
  const installs: InstallSite[] = [];
  let numericIds = false;
  const sites: Site[] = [];
  const opaque: Command[] = [];
  walk(script.statements, true, sites, opaque);
  for (const command of opaque) {
    const text = script.source.slice(command.start, command.end);
    if (ALPINE_COMMANDS.test(text)) {
      throw new Refusal(
        node.start,
        `RUN at line ${node.line} runs Alpine commands inside a subshell or function; not translated`,
      );
    }
    for (const m of text.matchAll(/(?:^|[\s;&|(])([a-z0-9]+)(?=\s)/g)) useCommand(m[1]!, node.start, false);
  }
  const context = contextAt(file, node);
  const env = context.env;
  let venv = env.has("VIRTUAL_ENV") || /venv|virtualenv/.test(env.get("PATH") ?? "");
  const lineOf = `RUN at line ${node.line}`;
  // The directory commands run in: WORKDIR, then top-level `cd`. Without a
  // WORKDIR the image's own applies, which is / for alpine and most official images.
  let cwd: string | null = context.workdir ?? (state.family === null ? "/" : null);
  let errexit = false;
  let apkDirMade = false;
  /** A failure this command certainly has on Debian: skip the group when it fails the RUN, else unsafe. */
  const fails = (site: Site, reason: string) => {
    if (failureFailsRun(site, errexit)) throw new Refusal(node.start, `${reason}; the RUN would fail`);
    unsafe.push(reason);
  };

  for (const site of sites) {
    const command = site.command;
    const words = command.words;
    const name = command.name;
    const at = fileSpanStart(node, command.start);
    const call = packageManagerCall(command);
    if (call?.manager === "apk") {
      if (call.argsFrom !== 1 || command.assigns.length > 0) {
        throw new Refusal(node.start, `${lineOf}: apk behind a prefix or assignment; not translated`);
      }
      const r = convertApk(c, node, site, state, lineOf, listsMounted);
      edits.push(...r.edits);
      unsafe.push(...r.unsafe);
      if (r.install) installs.push(r.install);
      continue;
    }
    if (name !== null && (basename(name) === "adduser" || basename(name) === "addgroup")) {
      const r = convertUserCommand(file, node, site, state, lineOf);
      edits.push(...r.edits);
      unsafe.push(...r.unsafe);
      continue;
    }
    if (name === "deluser" || name === "delgroup") {
      unsafe.push(`${lineOf}: busybox ${name} and Debian's ${name} differ in what else they remove`);
    }
    if (name !== null && ASH_TO_BASH[name]) edits.push(replaceSpan(node, words[0]!, ASH_TO_BASH[name]!));
    for (const w of words) renameWord(node, w);
    useCommand(name, at, false);
    if (name === "xargs" || name === "exec" || name === "command") useCommand(words[1]?.value ?? null, at, false);
    if (
      name === "chown" &&
      words.slice(1).some((w) => w.value !== null && /^\d+(:\d*)?$|^:\d+$|^[^-].*:\d+$/.test(w.value))
    ) {
      numericIds = true;
    }
    if (
      words.some((w) => w.value === "activate" || w.value?.endsWith("/activate")) ||
      (isPython(name ?? "") && words.some((w) => w.value === "venv" || w.value === "virtualenv")) ||
      name === "virtualenv"
    ) {
      venv = true;
    }
    if (call?.manager === "pip" && call.subcommand === "install" && state.family?.repository !== "python") {
      const systemPython = has(state, "python3");
      const bare = !words[0]!.value?.includes("/");
      const breaks = words.some((w) => w.value === "--break-system-packages") || env.has("PIP_BREAK_SYSTEM_PACKAGES");
      if (systemPython && bare && !venv && !breaks) {
        fails(
          site,
          `${lineOf}: pip install into Debian's system Python is refused (PEP 668, externally-managed-environment)`,
        );
      }
    }
    if (
      site.topLevel &&
      name === "set" &&
      words.some((w) => /^-[a-z]*e/.test(w.value ?? "") || w.value === "errexit")
    ) {
      errexit = true;
    }
    if (site.topLevel && name === "cd") {
      const to = words[1]?.value ?? null;
      cwd = to === null ? null : to.startsWith("/") ? to : cwd === null ? null : joinPath(cwd, to);
    }
    if (name === "mkdir") {
      for (const w of words.slice(1)) {
        if (w.value === null || w.value.startsWith("-")) continue;
        const dir = w.value.startsWith("/") ? w.value : cwd === null ? null : joinPath(cwd, w.value);
        if (dir !== null) addDir(state.dirs, dir);
      }
    }
    if (name !== null && basename(name) === "tar") {
      const into = tarExtractDir(words, cwd);
      if (into !== undefined && (into === null || ROOT_DIRS.has(normalizePath(into)))) {
        unsafe.push(
          `${lineOf} extracts an archive into ${into ?? "a directory that may be /"}: Debian's /bin, /lib and /sbin are symlinks into /usr, which tar replaces with directories when the archive has them`,
        );
      }
    }
    if (name === "date" && words.slice(1).some((w) => /^-[A-Za-z]*D/.test(w.value ?? ""))) {
      fails(site, `${lineOf}: busybox date -D (input format) is not an option of GNU date`);
    }
    checkOwners(site, state, lineOf, node, edits, unsafe);
    // Alpine's package directories do not exist on Debian.
    const apkWords = words.slice(1).filter((w) => w.value !== null && APK_PATH.test(w.value));
    const apkRedirects = command.redirects.filter((r) => r.target !== null && APK_PATH.test(r.target));
    if (name === "rm") {
      const r = dropApkCacheCleanup(file, node, site);
      if (r) edits.push(...r);
    } else if (name === "mkdir" && apkWords.length > 0) {
      if (words.some((w) => w.value === "-p" || /^-[a-z]*p/.test(w.value ?? ""))) apkDirMade = true;
      else fails(site, `${lineOf}: mkdir ${apkWords[0]!.value} needs Alpine's /etc/apk or /var/cache/apk`);
    } else if (apkWords.length > 0 || apkRedirects.length > 0) {
      const path = apkWords[0]?.value ?? apkRedirects[0]!.target;
      const reason = `${lineOf}: ${name ?? "a command"} uses ${path}, which does not exist on Debian`;
      const harmless = apkRedirects.length === 0 && (name === "echo" || name === "printf");
      if (name === "test" || name === "[" || harmless || apkDirMade) unsafe.push(reason);
      else fails(site, reason);
    } else {
      const touchesApkConfig =
        words.some((w) => w.value?.includes("/etc/apk") || w.value?.includes("alpinelinux.org")) ||
        command.redirects.some((r) => r.target?.includes("/etc/apk"));
      if (touchesApkConfig) unsafe.push(`${lineOf} edits Alpine's package configuration (/etc/apk)`);
    }
    if (/alpine-release/.test(script.source.slice(command.start, command.end))) {
      unsafe.push(`${lineOf} reads /etc/alpine-release`);
    }
  }
  if (!state.shellIsBash) {
    for (const what of ashOnlySyntax(script))
      unsafe.push(`${lineOf} uses ${what}, which Debian's /bin/sh (dash) rejects`);
  }
  return { edits, unsafe, installs, numericIds };
}

function has(state: StageState, pkg: string): boolean {
  return (
    (state.preinstalled?.has(pkg) ?? false) ||
    state.installed.has(pkg) ||
    [...state.groups.values()].some((g) => g.includes(pkg))
  );
}

function fileSpanStart(node: InstructionNode, logicalOffset: number): number {
  return fileRangeOf(node.shell!.logical, logicalOffset, logicalOffset).start;
}

/** The file text of a logical range, and whether removing it would drop a comment line. */
function removableRange(
  file: ParsedDockerfile,
  node: InstructionNode,
  from: number,
  to: number,
): { start: number; end: number } | null {
  const range = fileRangeOf(node.shell!.logical, from, to);
  const text = file.text.slice(range.start, range.end);
  if (/(^|\n)\s*#/.test(text)) return null;
  return range;
}

/**
 * Remove a command from its and-or list or statement list without changing
 * what the rest does; null when it cannot be taken out cleanly.
 */
function removeCommandEdit(file: ParsedDockerfile, node: InstructionNode, site: Site): Edit | null {
  const { andOr, index, statement, siblings } = site;
  if (site.pipeline.commands.length !== 1 || site.pipeline.negated) return null;
  if (andOr.pipelines.length > 1) {
    let range: { start: number; end: number } | null = null;
    if (index > 0 && andOr.ops[index - 1] === "&&") {
      range = removableRange(file, node, andOr.pipelines[index - 1]!.end, andOr.pipelines[index]!.end);
    } else if (index === 0 && andOr.ops[0] === "&&") {
      range = removableRange(file, node, andOr.pipelines[0]!.start, andOr.pipelines[1]!.start);
    }
    return range ? { ...range, newText: "" } : null;
  }
  if (statement.background) return null;
  const position = siblings.indexOf(statement);
  if (siblings.length > 1) {
    const range =
      position < siblings.length - 1
        ? removableRange(file, node, statement.start, siblings[position + 1]!.start)
        : removableRange(file, node, siblings[position - 1]!.end, statement.end);
    return range ? { ...range, newText: "" } : null;
  }
  if (site.topLevel && node.flags.length === 0) {
    // The RUN does nothing else: drop the instruction with its line.
    const line = file.lines.lineAt(node.start);
    const lineStart = file.lines.lineStart(line);
    if (file.text.slice(lineStart, node.start).trim() !== "") return null;
    const endLine = file.lines.lineAt(node.end);
    const next = file.lines.lineStart(endLine + 1);
    return { start: lineStart, end: next, newText: "" };
  }
  return null;
}

function removeOrReplace(file: ParsedDockerfile, node: InstructionNode, site: Site, replacement: string): Edit {
  const removal = removeCommandEdit(file, node, site);
  if (removal) return removal;
  const words = site.command.words;
  const range = fileRangeOf(node.shell!.logical, words[0]!.start, words[words.length - 1]!.end);
  return { ...range, newText: replacement };
}

/** Paths of apk's configuration and cache, which do not exist on Debian. */
const APK_PATH = /^\/(var\/cache\/apk|etc\/apk)(\/|$)/;

/**
 * `rm -rf /var/cache/apk/*`: apk's cache does not exist on Debian, and
 * without -f rm would fail on it. The command goes (or becomes `true` when
 * a comment line in the continuation keeps it from being taken out).
 */
function dropApkCacheCleanup(file: ParsedDockerfile, node: InstructionNode, site: Site): Edit[] | null {
  const words = site.command.words;
  const targets = words.slice(1).filter((w) => w.value === null || !w.value.startsWith("-"));
  const apk = targets.filter((w) => w.value !== null && APK_PATH.test(w.value));
  if (apk.length === 0) return null;
  if (apk.length === targets.length) return [removeOrReplace(file, node, site, "true")];
  return removeWords(file, node, site.command, new Set(apk.map((w) => words.indexOf(w))));
}

/**
 * Whether this command failing fails the RUN: it runs unconditionally (only
 * \`&&\` before it), nothing but \`&&\` follows it, it is the last command of
 * a pipeline at the top level, and its and-or list is the RUN's last (or
 * \`set -e\` is on).
 */
function failureFailsRun(site: Site, errexit: boolean): boolean {
  if (!site.topLevel || site.pipeline.negated || site.statement.background) return false;
  const commands = site.pipeline.commands;
  if (commands[commands.length - 1] !== site.command) return false;
  if (site.andOr.ops.some((op) => op !== "&&")) return false;
  return errexit || site.siblings[site.siblings.length - 1] === site.statement;
}

// --- apk ------------------------------------------------------------------

/**
 * Remove some words of a command (never its first). Each run of removed
 * words goes from the end of the word before it, through any line
 * continuation, so no blank or dangling `\\` is left behind (a continuation
 * left at the end of a RUN would join the next instruction).
 */
function removeWords(
  file: ParsedDockerfile,
  node: InstructionNode,
  command: SimpleCommand,
  remove: ReadonlySet<number>,
): Edit[] {
  const words = command.words;
  const edits: Edit[] = [];
  for (let i = 1; i < words.length; i++) {
    if (!remove.has(i)) continue;
    let j = i;
    while (remove.has(j + 1)) j++;
    const range = removableRange(file, node, words[i - 1]!.end, words[j]!.end);
    if (range) edits.push({ ...range, newText: "" });
    else for (let k = i; k <= j; k++) edits.push(replaceSpan(node, words[k]!, ""));
    i = j;
  }
  return edits;
}

interface ApkWordRole {
  readonly kind: "apk" | "subcommand" | "option" | "value" | "operand";
  readonly word: ShellWord;
}

function classifyApkWords(words: readonly ShellWord[], lineOf: string, node: InstructionNode, unsafe: string[]) {
  const roles: ApkWordRole[] = [{ kind: "apk", word: words[0]! }];
  let subcommand: string | null = null;
  let virtual: string | null = null;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    const v = word.value;
    if (v !== null && v.startsWith("-") && v !== "-") {
      const eq = v.indexOf("=");
      const flagName = v.startsWith("--") && eq >= 0 ? v.slice(0, eq) : v;
      let option = APK_OPTIONS[flagName];
      if (!option && !v.startsWith("--") && v.length > 2) {
        // Bundled short flags (`-Uq`): every one must be a known flag without value.
        const all = [...v.slice(1)].map((ch) => APK_OPTIONS[`-${ch}`]);
        if (all.every((o) => o && !o.value)) {
          option = all.some((o) => o!.action === "refuse")
            ? { value: false, action: "refuse" }
            : all.some((o) => o!.action === "unsafe")
              ? { value: false, action: "unsafe" }
              : { value: false, action: "drop" };
        }
      }
      if (!option) throw new Refusal(node.start, `${lineOf}: apk option ${v} is not known to this pass`);
      if (option.action === "refuse")
        throw new Refusal(node.start, `${lineOf}: apk ${v} does not install into this image`);
      if (option.action === "unsafe") unsafe.push(`${lineOf}: apk ${v} has no apt equivalent (dropped)`);
      roles.push({ kind: "option", word });
      let value: string | null = null;
      if (option.value) {
        if (eq >= 0) value = v.slice(eq + 1);
        else {
          const next = words[++i];
          if (!next) throw new Refusal(node.start, `${lineOf}: apk ${v} without its value`);
          roles.push({ kind: "value", word: next });
          value = next.value;
        }
      }
      if (flagName === "--virtual" || flagName === "-t") {
        if (value === null) throw new Refusal(node.start, `${lineOf}: apk --virtual name expands at build time`);
        virtual = value;
      }
      continue;
    }
    if (subcommand === null) {
      if (v === null) throw new Refusal(node.start, `${lineOf}: apk subcommand expands at build time`);
      subcommand = v;
      roles.push({ kind: "subcommand", word });
      continue;
    }
    roles.push({ kind: "operand", word });
  }
  return { roles, subcommand, virtual };
}

function convertApk(
  c: Converter,
  node: InstructionNode,
  site: Site,
  state: StageState,
  lineOf: string,
  listsMounted: boolean,
): { edits: Edit[]; unsafe: string[]; install: InstallSite | null } {
  // With apt's lists in a cache mount, deleting them only empties the cache.
  const cleanup = listsMounted ? "" : APT_LISTS_CLEANUP;
  const { file } = c;
  const command = site.command;
  const words = command.words;
  const unsafe: string[] = [];
  if (site.pipeline.commands.length !== 1 || site.pipeline.negated) {
    throw new Refusal(node.start, `${lineOf}: apk in a pipeline; not translated`);
  }
  if (command.redirects.some((r) => r.target !== "/dev/null" && !/^&?[12]$/.test(r.target ?? ""))) {
    throw new Refusal(node.start, `${lineOf}: apk output is redirected; not translated`);
  }
  const { roles, subcommand, virtual } = classifyApkWords(words, lineOf, node, unsafe);
  const operands = roles.filter((r) => r.kind === "operand").map((r) => r.word);
  const wrap = site.index > 0 && site.andOr.ops[site.index - 1] === "||";
  const open = wrap ? "{ " : "";
  const close = wrap ? "; }" : "";
  const lastWord = words[words.length - 1]!;
  const endOfCommand = fileRangeOf(node.shell!.logical, lastWord.start, lastWord.end).end;
  const edits: Edit[] = [];

  // Head: `apk` becomes the apt command; other head words go; operands are replaced one by one.
  const rewrite = (head: string, mapped: Map<ShellWord, string[]>) => {
    const removed = new Set<number>();
    roles.forEach((role, i) => {
      if (role.kind === "apk") edits.push(replaceSpan(node, role.word, open + head));
      else if (role.kind === "operand" && (mapped.get(role.word) ?? []).length > 0) {
        edits.push(replaceSpan(node, role.word, mapped.get(role.word)!.join(" ")));
      } else removed.add(i);
    });
    edits.push(...removeWords(file, node, command, removed));
  };

  switch (subcommand) {
    case "add": {
      if (operands.length === 0) throw new Refusal(node.start, `${lineOf}: apk add without packages`);
      const seen = new Set<string>();
      const mapped = new Map<ShellWord, string[]>();
      for (const word of operands) {
        const out: string[] = [];
        if (word.value === null) {
          // `openjdk8-jre="$VERSION"`: the name itself is literal.
          const literal = /^([a-z0-9][a-z0-9._+-]*)[=~<>]/.exec(word.source)?.[1];
          if (literal !== undefined && !aptEquivalent(literal)) {
            throw new Refusal(node.start, `${lineOf}: no known Debian package for apk package ${literal}`);
          }
          // Its apk names would reach apt-get untranslated: certain to fail, not merely unproven.
          throw new Refusal(
            node.start,
            `${lineOf}: the package list ${word.source} expands at build time, so its apk names can't be translated`,
          );
        } else if (word.value.endsWith(".apk") || word.value.includes("/")) {
          throw new Refusal(node.start, `${lineOf}: apk installs a local package file (${word.value})`);
        } else {
          const { name, constraint, repoTag } = apkPackageName(word.value);
          if (constraint)
            unsafe.push(
              `${lineOf}: the version constraint ${name}${constraint} cannot carry over to Debian's versions`,
            );
          if (repoTag) unsafe.push(`${lineOf}: ${name} is pinned to Alpine's @${repoTag} repository`);
          const eq = aptEquivalent(name);
          state.apkInstalled.add(name);
          if (!eq) {
            // apt-get install would stop at "Unable to locate package".
            throw new Refusal(node.start, `${lineOf}: no known Debian package for apk package ${name}`);
          } else {
            if (eq.unsafe) unsafe.push(`${name}: ${eq.unsafe}`);
            out.push(...eq.debian);
          }
        }
        mapped.set(
          word,
          out.filter((n) => !seen.has(n) && (seen.add(n), true)),
        );
      }
      const names = [...seen];
      const isVirtual = virtual !== null;
      if (isVirtual) {
        const group = names.filter((n) => !state.installed.has(n));
        state.groups.set(virtual, group);
      } else {
        for (const n of names) state.installed.add(n);
      }
      if (names.length === 0) {
        // Everything maps to nothing (musl shims): the command has nothing left to do.
        return { edits: [removeOrReplace(file, node, site, "true")], unsafe, install: null };
      }
      rewrite(APT_INSTALL, mapped);
      const install: InstallSite = {
        node,
        virtual: isVirtual,
        commandStart: fileRangeOf(node.shell!.logical, command.start, command.start).start,
        insertAt: endOfCommand,
        names,
        suffix: cleanup + close,
        extras: [],
      };
      return { edits, unsafe, install };
    }
    case "del": {
      if (state.preinstalled === null) {
        unsafe.push(
          `${lineOf}: the Debian image's own packages are not known, so removing packages could take some of them`,
        );
      }
      const mapped = new Map<ShellWord, string[]>();
      const seen = new Set<string>();
      for (const word of operands) {
        const out: string[] = [];
        if (word.value === null) {
          throw new Refusal(
            node.start,
            `${lineOf}: the package list ${word.source} expands at build time, so its apk names can't be translated`,
          );
        }
        const group = state.groups.get(word.value);
        if (group !== undefined) {
          out.push(...group.filter((n) => !state.installed.has(n) && !(state.preinstalled?.has(n) ?? false)));
          state.groups.delete(word.value);
        } else if (word.value.startsWith(".")) {
          throw new Refusal(node.start, `${lineOf}: apk del ${word.value}: no such virtual group installed earlier`);
        } else {
          const eq = aptEquivalent(apkPackageName(word.value).name);
          if (!eq) throw new Refusal(node.start, `${lineOf}: no known Debian package for apk package ${word.value}`);
          const debian = eq.debian;
          for (const n of debian) {
            if (state.preinstalled?.has(n)) continue;
            if (!state.installed.has(n)) {
              unsafe.push(`${lineOf}: apk del ${word.value}, which this Dockerfile did not install`);
              continue;
            }
            state.installed.delete(n);
            out.push(n);
          }
        }
        mapped.set(
          word,
          out.filter((n) => !seen.has(n) && (seen.add(n), true)),
        );
      }
      if (seen.size === 0) return { edits: [removeOrReplace(file, node, site, "true")], unsafe, install: null };
      rewrite(APT_REMOVE, mapped);
      edits.push({ start: endOfCommand, end: endOfCommand, newText: APT_REMOVE_SUFFIX + close });
      return { edits, unsafe, install: null };
    }
    case "update": {
      // Every translated install runs its own `apt-get update`.
      return { edits: [removeOrReplace(file, node, site, "apt-get update")], unsafe, install: null };
    }
    case "upgrade": {
      unsafe.push(`${lineOf}: apk upgrade becomes apt-get upgrade, which upgrades Debian's package set instead`);
      const range = fileRangeOf(node.shell!.logical, words[0]!.start, lastWord.end);
      const names = operands.map((w) => {
        const eq = w.value === null ? undefined : aptEquivalent(apkPackageName(w.value).name);
        if (!eq) throw new Refusal(node.start, `${lineOf}: apk upgrade ${w.source}: no known Debian package`);
        return eq.debian.join(" ");
      });
      const apt =
        names.length === 0
          ? "apt-get update && apt-get upgrade -y"
          : `apt-get update && apt-get install -y --only-upgrade ${names.join(" ")}`;
      return { edits: [{ ...range, newText: open + apt + cleanup + close }], unsafe, install: null };
    }
    default:
      throw new Refusal(node.start, `${lineOf}: apk ${subcommand ?? ""} has no apt translation`);
  }
}

// --- adduser / addgroup ---------------------------------------------------------

function convertUserCommand(
  file: ParsedDockerfile,
  node: InstructionNode,
  site: Site,
  state: StageState,
  lineOf: string,
): { edits: Edit[]; unsafe: string[] } {
  const command = site.command;
  const words = command.words;
  const unsafe: string[] = [];
  const which = basename(command.name!);
  const t = which === "adduser" ? translateAdduser(words) : translateAddgroup(words);
  if (!t.ok) {
    unsafe.push(`${lineOf}: ${t.reason}`);
    return { edits: [], unsafe };
  }
  for (const user of t.createsUsers) {
    if (DEBIAN_BASE_USERS.has(user)) unsafe.push(`user ${user} already exists in Debian's base image`);
    state.users.add(user);
  }
  for (const group of t.createsGroups) {
    if (DEBIAN_BASE_GROUPS.has(group)) unsafe.push(`group ${group} already exists in Debian's base image`);
    state.groupNames.add(group);
  }
  for (const group of t.usesGroups) {
    if (ALPINE_ONLY_GROUPS.has(group) && !state.groupNames.has(group)) {
      unsafe.push(`group ${group} exists in Alpine's base image but not in Debian's`);
    }
  }
  const takenIds = new Set([...DEBIAN_BASE_USERS.values(), ...DEBIAN_BASE_GROUPS.values()]);
  for (const n of t.ids) if (takenIds.has(n)) unsafe.push(`id ${n} is already taken in Debian's base image`);
  if (t.implicitSystemId) state.implicitSystemIds = true;
  const range = removableRange(file, node, words[0]!.start, words[words.length - 1]!.end);
  if (!range) throw new Refusal(node.start, `${lineOf}: ${which} spans comment lines; not translated`);
  let text = t.text;
  // busybox chowns the home to the user and chmods it 02755 even when it
  // exists; useradd --create-home leaves an existing directory as it is.
  const home = t.home;
  const homeExists =
    home !== undefined &&
    (home.path === null ||
      DEBIAN_BASE_DIRS.has(normalizePath(home.path)) ||
      [...state.dirs].some((d) => d === normalizePath(home.path!) || d.startsWith(`${normalizePath(home.path!)}/`)));
  if (home && homeExists) {
    if (site.pipeline.commands.length > 1 || site.pipeline.negated || site.statement.background) {
      unsafe.push(`${lineOf}: adduser takes over its existing home ${home.source}, which useradd does not`);
    } else {
      text += ` && chown ${home.user}: ${home.source} && chmod 2755 ${home.source}`;
      if (site.index > 0 && site.andOr.ops[site.index - 1] === "||") text = `{ ${text}; }`;
    }
  }
  if (home?.path) addDir(state.dirs, home.path);
  return { edits: [{ ...range, newText: text }], unsafe };
}

// --- paths and owners -----------------------------------------------------------

/** Extracting an archive here can replace one of Debian's merged-/usr symlinks (/bin → usr/bin…). */
const ROOT_DIRS: ReadonlySet<string> = new Set(["/", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]);

/**
 * Directories debian:bookworm-slim has: busybox adduser chowns a home that
 * exists, useradd --create-home leaves it to root.
 */
const DEBIAN_BASE_DIRS: ReadonlySet<string> = new Set([
  "/",
  "/root",
  "/home",
  "/tmp",
  "/opt",
  "/srv",
  "/mnt",
  "/media",
  "/run",
  "/etc",
  "/usr",
  "/usr/bin",
  "/usr/sbin",
  "/usr/lib",
  "/usr/share",
  "/usr/src",
  "/usr/local",
  "/usr/local/bin",
  "/usr/local/lib",
  "/usr/local/share",
  "/usr/local/src",
  "/var",
  "/var/lib",
  "/var/cache",
  "/var/log",
  "/var/tmp",
  "/var/spool",
  "/var/mail",
  "/var/opt",
  "/var/local",
  "/var/backups",
]);

function joinPath(base: string, rel: string): string {
  return normalizePath(`${base}/${rel}`);
}

/** Record a directory and its parents as existing. */
function addDir(dirs: Set<string>, path: string): void {
  if (/[$*?[]/.test(path)) return;
  let dir = normalizePath(path);
  for (;;) {
    dirs.add(dir);
    if (dir === "/") break;
    dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
  }
}

/**
 * Where `tar` extracts: undefined when it does not extract, null when the
 * directory is not known, else the directory (`-C`, `--directory`, or cwd).
 */
function tarExtractDir(words: readonly ShellWord[], cwd: string | null): string | null | undefined {
  let extract = false;
  let dir: string | null | undefined;
  for (let i = 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    if (i === 1 && /^[A-Za-z]+$/.test(v)) {
      // Old-style bundled options (`tar xzf file`).
      if (v.includes("x")) extract = true;
      continue;
    }
    if (v === "--extract" || v === "--get") extract = true;
    else if (v === "-C" || v === "--directory") dir = words[++i]?.value ?? null;
    else if (v.startsWith("--directory=")) dir = v.slice("--directory=".length);
    else if (/^-[A-Za-z]+$/.test(v)) {
      if (v.includes("x")) extract = true;
      const c = v.indexOf("C");
      if (c > 0) dir = c === v.length - 1 ? (words[++i]?.value ?? null) : v.slice(c + 1);
    }
  }
  if (!extract) return undefined;
  if (dir === undefined) return cwd;
  if (dir === null) return null;
  return dir.startsWith("/") ? dir : cwd === null ? null : joinPath(cwd, dir);
}

/**
 * An owner spec (`user[:group]`, or a group for chgrp) in a converted
 * stage: Alpine's `nobody` group is Debian's `nogroup` (both gid 65534),
 * which is rewritten; other users and groups only Alpine's base has are unsafe.
 */
function ownerSpec(spec: string, state: StageState, groupOnly: boolean): { rewrite: string | null; unsafe: string[] } {
  const unsafe: string[] = [];
  let user = "";
  let sep = "";
  let group = "";
  if (groupOnly) group = spec;
  else if (spec === "nobody.nobody") [user, sep, group] = ["nobody", ".", "nobody"];
  else {
    const colon = spec.indexOf(":");
    if (colon < 0) user = spec;
    else [user, sep, group] = [spec.slice(0, colon), ":", spec.slice(colon + 1)];
  }
  if (ALPINE_ONLY_USERS.has(user) && !state.users.has(user)) {
    unsafe.push(`user ${user} exists in Alpine's base image but not in Debian's`);
  }
  let rewrite: string | null = null;
  if (group === "nobody" && !state.groupNames.has("nobody")) {
    rewrite = `${user}${sep}nogroup`;
  } else if (ALPINE_ONLY_GROUPS.has(group) && !state.groupNames.has(group)) {
    unsafe.push(`group ${group} exists in Alpine's base image but not in Debian's`);
  }
  return { rewrite, unsafe };
}

/** Owner arguments of chown/chgrp/su-exec/gosu/su, and users created by useradd/groupadd. */
function checkOwners(
  site: Site,
  state: StageState,
  lineOf: string,
  node: InstructionNode,
  edits: Edit[],
  unsafe: string[],
): void {
  const name = site.command.name === null ? "" : basename(site.command.name);
  const words = site.command.words;
  const last = words[words.length - 1]?.value;
  if (name === "useradd" && last) state.users.add(last);
  if (name === "groupadd" && last) state.groupNames.add(last);
  let spec: ShellWord | undefined;
  if (name === "chown" || name === "chgrp") {
    if (words.some((w) => w.value?.startsWith("--reference"))) return;
    spec = words.slice(1).find((w) => w.value === null || !w.value.startsWith("-"));
  } else if (name === "su-exec" || name === "gosu") {
    spec = words[1];
  } else if (name === "su") {
    for (let i = 1; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null) break;
      if (["-c", "-s", "-g", "-G", "--command", "--shell", "--group", "--supp-group"].includes(v)) {
        i++;
        continue;
      }
      if (v.startsWith("-")) continue;
      spec = words[i];
      break;
    }
  }
  if (spec?.value == null) return;
  const r = ownerSpec(spec.value, state, name === "chgrp");
  if (r.rewrite !== null) edits.push(replaceSpan(node, spec, r.rewrite));
  for (const u of r.unsafe) unsafe.push(`${lineOf}: ${u}`);
}

// --- prebuilt binaries ------------------------------------------------------------

const MUSL_HINT = /musl|alpine/i;
const URL_PATTERN = /[a-z][a-z0-9+.-]*:\/\/[^\s"'`)]+/gi;

/**
 * Downloads in a stage that name a musl or Alpine build: URLs in RUN/ADD,
 * and ARG/ENV values (the stage's own or global ARGs it uses). Alpine's own
 * package mirrors are left to the /etc/apk checks.
 */
function muslDownloads(file: ParsedDockerfile, stage: Stage): string[] {
  const found: string[] = [];
  const firstFrom = file.stages[0]?.from.start ?? 0;
  const globalArgs = file.instructions.filter((n) => n.keyword === "ARG" && n.end <= firstFrom);
  const stageText = stage.instructions.map((n) => file.text.slice(n.start, n.end)).join("\n");
  const urls = (text: string) =>
    [...text.matchAll(URL_PATTERN)].map((m) => m[0]).filter((u) => MUSL_HINT.test(u) && !/alpinelinux\.org/i.test(u));
  for (const node of stage.instructions) {
    const text = file.text.slice(node.start, node.end);
    if (node.keyword === "RUN" || node.keyword === "ADD") {
      for (const u of urls(text)) found.push(`${node.keyword} at line ${node.line} downloads ${u}`);
    }
    if ((node.keyword === "ARG" || node.keyword === "ENV") && /musl/i.test(text)) {
      found.push(`${node.keyword} at line ${node.line} names a musl build`);
    } else if (node.keyword === "ARG" || node.keyword === "ENV") {
      for (const u of urls(text)) found.push(`${node.keyword} at line ${node.line} holds ${u}`);
    }
  }
  for (const node of globalArgs) {
    const text = file.text.slice(node.start, node.end);
    const name = /^\s*ARG\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(text)?.[1];
    if (!name || !new RegExp(`\\$\\{?${name}\\b`).test(stageText)) continue;
    if (/musl/i.test(text) || urls(text).length > 0)
      found.push(`ARG ${name} (line ${node.line}) names a musl or Alpine download`);
  }
  return found;
}
