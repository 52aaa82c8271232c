import type { InstructionNode, ParsedDockerfile, Stage } from "../src/dockerfile.js";
import type { Pipeline, SimpleCommand } from "../src/shell.js";
import type { Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import {
  commandsInOrder,
  deleteInstruction,
  descendantStages,
  laterInstructions,
  parseImage,
  removeWordOrLine,
} from "./lib/hygiene.js";
import { APT_LIST_READERS, OPTIONS_WITH_VALUE, packageManagerCall } from "./lib/package-managers.js";
import { analysableRuns, fileSpan, type RunInfo } from "./lib/runs.js";

const id = "python-base-image";

/** The python3 each distro release ships, and the Debian release its official python image is built on. */
const UBUNTU: Record<string, string> = {
  "20.04": "3.8",
  focal: "3.8",
  "22.04": "3.10",
  jammy: "3.10",
  "24.04": "3.12",
  noble: "3.12",
};
const DEBIAN: Record<string, [string, string]> = {
  bullseye: ["3.9", "bullseye"],
  "11": ["3.9", "bullseye"],
  bookworm: ["3.11", "bookworm"],
  "12": ["3.11", "bookworm"],
  trixie: ["3.13", "trixie"],
  "13": ["3.13", "trixie"],
};

/** The official image replacing a distro base, or null when the release is unknown (`latest` drifts). */
export function pythonImageFor(image: string, debianRelease: string): { target: string; version: string } | null {
  const { repo, tag } = parseImage(image);
  if (!tag || image.includes("@")) return null;
  const release = tag.replace(/-slim$/, "").replace(/-\d{8}$/, "");
  if (repo === "ubuntu") {
    const version = UBUNTU[release];
    return version ? { target: `python:${version}-slim-${debianRelease}`, version } : null;
  }
  if (repo === "debian") {
    const hit = DEBIAN[release] ?? DEBIAN[release.split(".")[0]!];
    return hit ? { target: `python:${hit[0]}-slim-${hit[1]}`, version: hit[0] } : null;
  }
  return null;
}

/**
 * From 3.12 on the official images ship pip only: no setuptools, no wheel
 * (docker-library/python#952, #954), while Debian's and Ubuntu's python3-pip
 * depend on python3-setuptools and python3-wheel.
 */
function withoutSetuptools(version: string): boolean {
  const [major, minor] = version.split(".").map(Number);
  return major! > 3 || (major === 3 && minor! >= 12);
}

/** apt packages the official image already provides (for Python `version`). */
function providedBy(version: string): (pkg: string) => boolean {
  const v = version.replace(".", "\\.");
  const setuptools = withoutSetuptools(version) ? "" : "|python3-setuptools|python3-wheel";
  const re = new RegExp(
    `^(python3|python3-pip|python3-venv|python3-dev${setuptools}|python3-distutils|python3-minimal|python-is-python3|python${v}|python${v}-dev|python${v}-venv|python${v}-minimal|python${v}-distutils|libpython${v}(-dev)?)$`,
  );
  return (pkg) => re.test(pkg.split("=")[0]!);
}

interface AptInstall {
  readonly run: RunInfo;
  readonly command: SimpleCommand;
  readonly packages: { index: number; value: string }[];
}

function aptInstalls(run: RunInfo): AptInstall[] | null {
  const out: AptInstall[] = [];
  for (const command of commandsInOrder(run.script)) {
    const call = packageManagerCall(command);
    if (!call || (call.manager !== "apt-get" && call.manager !== "apt") || call.subcommand !== "install") continue;
    const packages: { index: number; value: string }[] = [];
    const takesValue = OPTIONS_WITH_VALUE[call.manager] ?? [];
    let seenSub = false;
    for (let i = call.argsFrom; i < command.words.length; i++) {
      const v = command.words[i]!.value;
      if (v === null) return null;
      if (v.startsWith("-")) {
        if (takesValue.includes(v)) i++;
        continue;
      }
      if (!seenSub) {
        seenSub = true;
        continue;
      }
      packages.push({ index: i, value: v });
    }
    out.push({ run, command, packages });
  }
  return out;
}

/**
 * Commands that only serve apt itself (and can go when their install goes):
 * apt calls, removing its lists, and apt configuration (cache-mounts'
 * `rm -f /etc/apt/apt.conf.d/docker-clean && echo … > /etc/apt/apt.conf.d/keep-cache`).
 */
function isAptPlumbing(c: SimpleCommand): boolean {
  const call = packageManagerCall(c);
  if (call && (call.manager === "apt-get" || call.manager === "apt")) return true;
  const operands = c.words.slice(1).filter((w) => !w.value?.startsWith("-"));
  if (c.name === "rm" && operands.length > 0) {
    return operands.every(
      (w) => w.value !== null && (w.value.startsWith("/var/lib/apt/lists") || w.value.startsWith(APT_CONF_DIR)),
    );
  }
  // `echo '<apt option>' > /etc/apt/apt.conf.d/<file>`: writes apt's configuration only.
  return (
    c.name === "echo" &&
    c.redirects.length === 1 &&
    (c.redirects[0]!.op === ">" || c.redirects[0]!.op === ">>") &&
    (c.redirects[0]!.target ?? "").startsWith(APT_CONF_DIR)
  );
}

const APT_CONF_DIR = "/etc/apt/apt.conf.d/";

/** What in a Dockerfile uses setuptools or wheel (which python3-pip pulls in from apt). */
const SETUPTOOLS_USE =
  /\bsetup\.py\b|\bpkg_resources\b|--no-build-isolation|\beasy_install\b|\bbdist_wheel\b|\b(?:from|import)\s+setuptools\b/;

/**
 * Why the file is tied to Ubuntu itself, or null: the image's `ubuntu` user
 * (Ubuntu 23.04+ images create it), or `ubuntu` and Ubuntu codenames in URLs,
 * apt sources and paths, which a Debian-based image can't use.
 */
export function ubuntuSpecific(text: string): string | null {
  const user =
    /\bUSER\s+ubuntu\b|--chown[= ]ubuntu\b|\bchown\s+(?:-\S+\s+)*ubuntu\b|\bubuntu:ubuntu\b|\/home\/ubuntu\b|~ubuntu\b|\b(?:su|gosu|su-exec|runuser|userdel|usermod|deluser|groupdel|passwd|id)\s+(?:-\S+\s+)*ubuntu\b|(?:\s-u|--user|--uid)[= ]ubuntu\b/i;
  if (user.test(text)) return "the ubuntu user exists only in the Ubuntu image";
  const word =
    /[^\s"'`;|&()<>]*(?:\bubuntu\b|\b(?:trusty|xenial|bionic|focal|jammy|kinetic|lunar|mantic|noble|oracular|plucky)\b)[^\s"'`;|&()<>]*/i.exec(
      text,
    )?.[0];
  if (word) return `${word} names Ubuntu (apt sources, downloads or paths for Ubuntu don't fit a Debian-based image)`;
  return null;
}

export const pythonBaseImage: Pass = {
  meta: {
    id,
    title: "Distro + apt python3 → official python image",
    summary: "FROM ubuntu/debian + apt-get install python3 → FROM python:X.Y-slim of the same Python version (unsafe)",
    defaultEnabled: true,
    doc: `## What it does
A stage \`FROM ubuntu:<release>\` or \`FROM debian:<release>\` that installs
\`python3\`/\`python3-pip\` with apt is moved to the official
\`python:X.Y-slim-<debian release>\` image of the same Python version, and the
packages that image already provides (\`python3\`, \`python3-pip\`,
\`python3-venv\`, \`python3-dev\`, \`python3.X\`…; \`python3-setuptools\` and
\`python3-wheel\` only below 3.12) leave the apt installs. An install (and its
update/cleanup) left with nothing to install goes, and a RUN left with
nothing goes too. The python image ships no apt lists, so an
\`apt-get update\` whose lists a later install reads (in the stage or a stage
built FROM it, with no update of its own before it in its RUN) stays.

| base | Python | new base |
| --- | --- | --- |
| ubuntu 20.04 / 22.04 / 24.04 | 3.8 / 3.10 / 3.12 | \`python:X.Y-slim-<--debian-release>\` |
| debian bullseye / bookworm / trixie | 3.9 / 3.11 / 3.13 | \`python:X.Y-slim-<same release>\` |

## Why
The official image ships a current pip, no PEP 668 "externally managed"
lock, headers for building wheels, and is cached once for every project
(guide 002: "A better way … is to use a python base image with a specified
version").

## Example
\`\`\`dockerfile
FROM ubuntu:22.04
RUN apt-get update && apt-get install -y python3 python3-pip
\`\`\`
becomes
\`\`\`dockerfile
FROM python:3.10-slim-bookworm
\`\`\`

## Safety
**Unsafe**, always: Python moves from \`/usr\` (distro build) to
\`/usr/local\` (python.org build), so \`#!/usr/bin/python3\` shebangs and
\`/usr/lib/python3/dist-packages\` paths break; pip changes version and no
longer pulls build-essential in (python3-pip recommends it); from Ubuntu,
every other apt package must exist in Debian under the same name. For 3.12+
targets (Ubuntu 24.04, Debian trixie) setuptools and wheel go too: Debian's
and Ubuntu's \`python3-pip\` depend on \`python3-setuptools\` and
\`python3-wheel\`, and the official python:3.12+ images ship neither. The pass
refuses when the stage or a stage built on it visibly uses them
(\`setup.py\`, \`pkg_resources\`, \`--no-build-isolation\`, \`easy_install\`,
\`bdist_wheel\`, \`import setuptools\`), even after a \`pip install setuptools\`
(dfopt doesn't prove the order), and names the risk in the unsafe reason
otherwise (a script from the build context may still need them); it
doesn't add \`pip install setuptools wheel\`, which would install newer
versions than apt's.

Refused for unknown or floating releases (\`ubuntu:latest\`), other
\`python3-*\` modules from apt (they would bring the distro's Python back;
\`python3-setuptools\`/\`python3-wheel\` count as such for 3.12+), PPAs
(\`add-apt-repository\`), a Dockerfile naming \`/usr/bin/python\` or
\`dist-packages\`, installs the pass can't edit, and, from Ubuntu, the
\`ubuntu\` user (\`USER ubuntu\`, \`chown ubuntu\`, \`/home/ubuntu\`, \`su ubuntu\`…:
only the Ubuntu image has it) or any other word naming Ubuntu or one of its
codenames (\`https://download.docker.com/linux/ubuntu/gpg\`, \`jammy main\`:
Ubuntu apt sources and downloads don't fit a Debian-based image).

## References
- guide 002 ("Choosing the right image")
- Official python image: https://hub.docker.com/_/python
- python:3.12+ images without setuptools and wheel: https://github.com/docker-library/python/issues/952
`,
  },
  run(file: ParsedDockerfile, options: PassOptions): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const runs = analysableRuns(file).runs;
    for (const stage of file.stages) {
      const result = rewriteStage(file, stage, runs, options);
      if (!result) continue;
      if ("skip" in result) skips.push({ pass: id, at: stage.from.start, reason: result.skip });
      else changes.push(result);
    }
    return { changes, skips };
  },
};

function rewriteStage(
  file: ParsedDockerfile,
  stage: Stage,
  runs: readonly RunInfo[],
  options: PassOptions,
): Change | { skip: string } | null {
  const imageArg = stage.from.args.find((a) => !a.value.startsWith("--"));
  if (!imageArg || imageArg.value.includes("$")) return null;
  const { repo } = parseImage(imageArg.value);
  if (repo !== "ubuntu" && repo !== "debian") return null;
  const stageRuns = runs.filter((r) => r.node.stage === stage.index);
  const installs: AptInstall[] = [];
  for (const r of stageRuns) {
    const found = aptInstalls(r);
    if (found === null) return null;
    installs.push(...found);
  }
  const all = installs.flatMap((i) => i.packages.map((p) => p.value.split("=")[0]!));
  if (!all.some((p) => p === "python3" || p === "python3-pip" || /^python3\.\d+$/.test(p))) return null;
  const mapped = pythonImageFor(imageArg.value, options.debianRelease);
  if (!mapped)
    return {
      skip: `${imageArg.value}: no maintained python image matches this release's python3 (unknown, floating or end-of-life release)`,
    };
  const provided = providedBy(mapped.version);
  const foreign = all.find((p) => /^(python|libpython)/.test(p) && !provided(p));
  if (foreign) return { skip: `${foreign} comes from apt and would bring the distro's Python back` };
  const text = stage.instructions
    .filter((i) => i.keyword !== "FROM")
    .map((i) => file.text.slice(i.start, i.end))
    .join("\n");
  const blocker = /add-apt-repository|deadsnakes|\/usr\/bin\/python|\/usr\/lib\/python|dist-packages/.exec(text)?.[0];
  if (blocker) return { skip: `${blocker} is specific to the distro's Python or image` };
  if (repo === "ubuntu") {
    const ubuntu = ubuntuSpecific(text);
    if (ubuntu) return { skip: ubuntu };
  }
  if (withoutSetuptools(mapped.version) && all.includes("python3-pip")) {
    const inFamily = [stage, ...descendantStages(file, stage)]
      .flatMap((s) => s.instructions.filter((i) => i.keyword !== "FROM"))
      .map((i) => file.text.slice(i.start, i.end))
      .join("\n");
    const use = SETUPTOOLS_USE.exec(inFamily)?.[0];
    if (use)
      return {
        skip: `${use} needs setuptools or wheel: apt's python3-pip brings python3-setuptools and python3-wheel, ${mapped.target} has neither`,
      };
  }
  const edits: Edit[] = [{ start: imageArg.start, end: imageArg.end, newText: mapped.target }];
  const isEmptied = (i: AptInstall) => i.packages.length > 0 && i.packages.every((p) => provided(p.value));
  const removedCommands = new Set(installs.filter(isEmptied).map((i) => i.command));
  for (const r of stageRuns) {
    const mine = installs.filter((i) => i.run === r);
    if (mine.length === 0) continue;
    const emptied = mine.filter(isEmptied);
    for (const i of mine) {
      if (emptied.includes(i)) continue;
      for (const p of i.packages)
        if (provided(p.value)) edits.push(removeWordOrLine(file, r.node, i.command.words[p.index]!));
    }
    if (emptied.length === 0) continue;
    // The python image has no apt lists: a later install that relied on this
    // RUN's `apt-get update` keeps it.
    const keepUpdate = leavesAptLists(r) && laterInstallNeedsLists(file, r.node, removedCommands);
    const edit = removeEmptied(
      file,
      r,
      emptied.map((e) => e.command),
      keepUpdate,
    );
    if (!edit) return { skip: `the RUN on line ${r.node.line} would keep an empty apt-get install` };
    edits.push(...edit);
  }
  return {
    pass: id,
    edits,
    reason: `${imageArg.value} + apt python3 → ${mapped.target}: the official image of the same Python ${mapped.version}`,
    safety: "unsafe",
    unsafeBecause: `Python moves from /usr to /usr/local (#!/usr/bin/python3 shebangs and dist-packages paths break), pip changes version and build-essential is no longer pulled in${
      withoutSetuptools(mapped.version) && all.includes("python3-pip")
        ? ", setuptools and wheel (which apt's python3-pip depends on) are gone from the Python 3.12+ image, so setup.py, pkg_resources and --no-build-isolation builds outside what the Dockerfile shows may fail"
        : ""
    }${repo === "ubuntu" ? ", and every other apt package must exist in Debian under the same name" : ""}`,
  };
}

/** True when the RUN runs `apt-get update` and doesn't delete the lists after it. */
function leavesAptLists(run: RunInfo): boolean {
  let lists = false;
  for (const c of commandsInOrder(run.script)) {
    const call = packageManagerCall(c);
    if (call && (call.manager === "apt-get" || call.manager === "apt") && call.subcommand === "update") lists = true;
    // Only a literal `rm … /var/lib/apt/lists…` counts: when unsure, the lists may still be there.
    else if (c.name === "rm" && c.words.some((w) => w.value?.startsWith("/var/lib/apt/lists"))) lists = false;
  }
  return lists;
}

/**
 * True when an apt install after `node`, in its stage or a stage built FROM
 * it, runs without an `apt-get update` of its own before it in its RUN (so it
 * reads the lists an earlier RUN left), other than installs this pass
 * removes. A RUN dfopt can't parse counts when it mentions an apt install.
 */
function laterInstallNeedsLists(
  file: ParsedDockerfile,
  node: InstructionNode,
  removed: ReadonlySet<SimpleCommand>,
): boolean {
  for (const later of laterInstructions(file, node)) {
    if (later.keyword !== "RUN") continue;
    if (!later.shell?.parse.ok) {
      const body = file.text.slice(later.bodyStart, later.end);
      if (/\bapt(-get)?\b[\s\S]*\b(install|upgrade|dist-upgrade|full-upgrade|build-dep|source|download)\b/.test(body))
        return true;
      continue;
    }
    let updated = false;
    for (const c of commandsInOrder(later.shell.parse.script)) {
      const call = packageManagerCall(c);
      if (!call || (call.manager !== "apt-get" && call.manager !== "apt")) continue;
      if (call.subcommand === "update") updated = true;
      else if (!updated && APT_LIST_READERS.has(call.subcommand ?? "") && !removed.has(c)) return true;
    }
  }
  return false;
}

/**
 * Remove installs left with nothing to install, with the apt update/cleanup
 * that only served them; the whole RUN when nothing else is left.
 */
function removeEmptied(
  file: ParsedDockerfile,
  run: RunInfo,
  emptied: SimpleCommand[],
  keepUpdate: boolean,
): Edit[] | null {
  const statements = run.script.statements;
  if (statements.length !== 1 || statements[0]!.background) return null;
  const andOr = statements[0]!.andOr;
  if (andOr.ops.some((op) => op !== "&&")) return null;
  const pipelines = andOr.pipelines;
  const single = (p: Pipeline) => (p.commands.length === 1 && p.commands[0]!.kind === "simple" ? p.commands[0]! : null);
  const removed = pipelines.map((p) => {
    const c = single(p);
    return c !== null && emptied.includes(c);
  });
  if (removed.filter(Boolean).length !== emptied.length) return null;
  // An apt call that still does something (not update/clean) keeps its plumbing.
  const remainingApt = pipelines.some((p, k) => {
    const c = single(p);
    const call = c === null ? null : packageManagerCall(c);
    return (
      !removed[k] &&
      call !== null &&
      (call.manager === "apt-get" || call.manager === "apt") &&
      !["update", "clean", "autoclean", "autoremove"].includes(call.subcommand ?? "")
    );
  });
  if (!remainingApt && !keepUpdate) {
    pipelines.forEach((p, k) => {
      const c = single(p);
      if (c !== null && isAptPlumbing(c)) removed[k] = true;
    });
  }
  if (removed.every(Boolean)) {
    if (file.comments.some((c) => c.start > run.node.start && c.end < run.node.end)) return null;
    return [deleteInstruction(file, run.node)];
  }
  const edits: Edit[] = [];
  let k = 0;
  while (k < pipelines.length) {
    if (!removed[k]) {
      k++;
      continue;
    }
    let j = k;
    while (j + 1 < pipelines.length && removed[j + 1]) j++;
    const range =
      j + 1 < pipelines.length
        ? { start: fileSpan(run.node, pipelines[k]!).start, end: fileSpan(run.node, pipelines[j + 1]!).start }
        : { start: fileSpan(run.node, pipelines[k - 1]!).end, end: fileSpan(run.node, pipelines[j]!).end };
    if (/(^|[\r\n])[ \t]*#/.test(file.text.slice(range.start, range.end))) return null;
    edits.push({ ...range, newText: "" });
    k = j + 1;
  }
  return edits;
}
