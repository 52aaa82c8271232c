import type { InstructionNode, ParsedDockerfile } from "../src/dockerfile.js";
import type { ShellScript, SimpleCommand } from "../src/shell.js";
import type { Change, Edit, Pass, PassOptions, PassResult, Skip } from "../src/types.js";
import { cacheMode } from "./lib/cache-mode.js";
import {
  appendAfter,
  cacheMountTargets,
  canAppendAfter,
  canPrependBefore,
  commandsInOrder,
  chainedNeighbours,
  hasOption,
  deleteInstruction,
  laterInstructions,
  opaqueSources,
  overlaps,
  prefixSource,
  runsOpaqueScript,
  shippedStages,
  slotOf,
  stageChain,
  subcommandCall,
  subcommandCalls,
  type SubcommandCall,
} from "./lib/hygiene.js";
import {
  APT_LIST_READERS,
  packageManagerCall,
  type PackageManager,
  OPTIONS_WITH_VALUE as SHARED_OPTIONS_WITH_VALUE,
} from "./lib/package-managers.js";
import { analysableRuns, fileSpan, insertAfterWord, replaceSpan, type RunInfo } from "./lib/runs.js";

const id = "apt-hygiene";

const LISTS = "/var/lib/apt/lists";
const CLEANUP = "rm -rf /var/lib/apt/lists/*";

/** apt-get options whose value is the next word. */
const OPTIONS_WITH_VALUE: ReadonlySet<string> = new Set(SHARED_OPTIONS_WITH_VALUE["apt-get"]);

/** Packages that need ca-certificates to talk HTTPS, which they only Recommend. */
const NEEDS_CA = new Set(["curl", "wget", "git", "openssl", "gnupg", "gnupg2", "apt-transport-https"]);

/**
 * Packages whose job needs one of their Recommends: without recommends they
 * install but don't work. Checked against bookworm with apt-cache in the tests.
 */
const NEEDED_RECOMMENDS: readonly {
  needs: string;
  by: (name: string) => boolean;
  already: readonly string[];
  why: string;
}[] = [
  {
    needs: "ca-certificates",
    by: (n) => NEEDS_CA.has(n),
    already: [],
    why: "curl/wget/git only recommend it",
  },
  {
    // gcc only Recommends the C library headers: without them nothing compiles
    // (stdlib.h: No such file). g++ and clang depend on them already.
    needs: "libc6-dev",
    by: (n) => /^gcc(-\d+)?$/.test(n),
    already: ["build-essential", "g++", "clang"],
    why: "gcc only recommends it, and nothing compiles without it",
  },
  // cmake only Recommends gcc and make (apt-cache depends cmake): its default
  // generator writes Makefiles and probes a C compiler, so both are added, and
  // the C headers gcc itself only recommends.
  { needs: "make", by: (n) => n === "cmake", already: ["build-essential", "make"], why: "cmake only recommends it" },
  {
    needs: "gcc",
    by: (n) => n === "cmake",
    already: ["build-essential", "gcc", "g++", "clang"],
    why: "cmake only recommends a C compiler",
  },
  {
    needs: "libc6-dev",
    by: (n) => n === "cmake",
    already: ["build-essential", "libc6-dev", "g++", "clang"],
    why: "cmake only recommends gcc, which needs the C headers",
  },
  // gnupg2 (and gnupg before bookworm) only Recommend dirmngr, which apt-key adv --keyserver and gpg --recv-keys use.
  {
    needs: "dirmngr",
    by: (n) => n === "gnupg" || n === "gnupg2",
    already: ["dirmngr"],
    why: "gnupg only recommends it on older releases, and keyserver lookups need it",
  },
];

/**
 * Packages whose recommends a later build step needs: without them the step
 * fails, so the install keeps its recommends (apt-cache depends: bundler
 * recommends build-essential and ruby-dev, r-base recommends r-base-dev).
 */
const BUILD_RECOMMENDS: readonly { package: RegExp; later: RegExp; explicit: readonly RegExp[]; what: string }[] = [
  {
    package: /^(ruby-)?bundler$/,
    later: /(^|[\s;&|(])(bundle(\s+install)?|gem\s+install)(\s|$)/m,
    explicit: [/^(build-essential|gcc(-\d+)?|g\+\+(-\d+)?)$/, /^ruby[\d.]*-dev$/],
    what: "build-essential and ruby-dev, which bundle/gem install needs to compile native gems",
  },
  {
    package: /^r-base$/,
    later: /install\.packages|R\s+CMD\s+INSTALL|devtools::install|remotes::install/,
    explicit: [/^r-base-dev$/],
    what: "r-base-dev, which install.packages needs to compile packages",
  },
];

function buildRecommendsNeeded(
  file: ParsedDockerfile,
  run: RunInfo,
  a: AptCall,
  names: readonly string[],
): string | null {
  for (const rule of BUILD_RECOMMENDS) {
    const pkg = names.find((n) => rule.package.test(n));
    if (!pkg || rule.explicit.every((re) => names.some((n) => re.test(n)))) continue;
    const restOfRun = run.script.source.slice(a.command.end);
    const laterRun = laterInstructions(file, run.node).find(
      (i) => i.keyword === "RUN" && rule.later.test(file.text.slice(i.bodyStart, i.end)),
    );
    if (!rule.later.test(restOfRun) && !laterRun) continue;
    return `${pkg} only recommends ${rule.what}, and that runs ${laterRun ? `on line ${laterRun.line}` : "later in the RUN"}`;
  }
  return null;
}

/** `apt <sub>` → `apt-get <sub>` where both do the same thing. */
const APT_TO_APT_GET = new Set(["install", "update", "remove", "purge", "autoremove", "dist-upgrade"]);

type AptCall = SubcommandCall;
const APT: ReadonlySet<PackageManager> = new Set(["apt-get", "apt"]);

function aptCalls(script: ShellScript): AptCall[] {
  return subcommandCalls(script, APT);
}

/** Words after the subcommand: options (with their values) and package arguments. */
function splitArgs(a: AptCall): { options: (string | null)[]; packages: (string | null)[]; packageIdx: number[] } {
  const options: (string | null)[] = [];
  const packages: (string | null)[] = [];
  const packageIdx: number[] = [];
  const words = a.command.words;
  for (let i = a.call.argsFrom; i < words.length; i++) {
    if (i === a.sub) continue;
    const v = words[i]!.value;
    if (v !== null && v.startsWith("-")) {
      options.push(v);
      if (OPTIONS_WITH_VALUE.has(v) && i + 1 < words.length) {
        options.push(words[i + 1]!.value);
        i++;
      }
    } else if (i > a.sub) {
      packages.push(v);
      packageIdx.push(i);
    } else {
      options.push(v);
    }
  }
  return { options, packages, packageIdx };
}

/**
 * apt, or a tool that resolves dependencies from the apt lists, named as a
 * command word anywhere in a text (`xargs apt-get install`, `su -c 'apt-get
 * install x'`, `["apt-get", "install"]`, `gdebi -n x.deb`, `/usr/bin/apt-get`),
 * but not as a path or URL component (`/var/lib/apt/lists`,
 * `https://packages.cloud.google.com/apt`).
 */
const APT_MENTION =
  /(^|[\s;&|()'"`=])((\/usr)?(\/local)?\/s?bin\/)?(apt-get|apt-cache|aptitude|apt|gdebi|mk-build-deps|equivs-build)(?=[\s;&|()'"`]|$)/;

/** True when a text names an apt command (see APT_MENTION). */
export function mentionsApt(text: string): boolean {
  return APT_MENTION.test(text);
}

/**
 * True when a command may read the lists: an apt/apt-get that reads them,
 * apt-cache/aptitude, or any command whose text names apt behind a wrapper
 * dfopt doesn't model (`xargs`, `eatmydata`, `timeout 600`, `su -c '…'`,
 * `runuser`, `gdebi`, `mk-build-deps`…): unknown means a reader.
 */
function readsLists(command: SimpleCommand, source?: string): boolean {
  const call = packageManagerCall(command);
  if (call && (call.manager === "apt-get" || call.manager === "apt")) {
    // Any reader word counts, wherever it stands: `apt-get -t x install` must not be missed.
    return call.args.some((a) => a === null || APT_LIST_READERS.has(a));
  }
  const name = command.name?.slice(command.name.lastIndexOf("/") + 1);
  if (name === "apt-cache" || name === "aptitude") return true;
  return source !== undefined && mentionsApt(source.slice(command.start, command.end));
}

function isUpdate(command: SimpleCommand): boolean {
  return subcommandCall(command, APT)?.subcommand === "update";
}

function isAptFamily(command: SimpleCommand): boolean {
  const call = packageManagerCall(command);
  if (call && (call.manager === "apt-get" || call.manager === "apt")) return true;
  const name = command.name?.slice(command.name.lastIndexOf("/") + 1);
  return name === "apt-cache" || name === "aptitude";
}

function removesLists(script: ShellScript): boolean {
  for (const command of commandsInOrder(script)) {
    if (command.name !== "rm" && !command.words.some((w) => w.value === "rm")) continue;
    if (command.words.some((w) => w.value !== null && /^\/var\/lib\/apt(\/lists)?\/?\*?$/.test(w.value))) return true;
  }
  return opaqueSources(script).some((s) => s.includes(LISTS));
}

/** Text of earlier instructions of the stage chain, for apt configuration written by hand. */
function stageText(file: ParsedDockerfile, node: InstructionNode): string {
  const stage = file.stages[node.stage];
  if (!stage) return "";
  return stage.instructions
    .filter((i) => i.index < node.index)
    .map((i) => file.text.slice(i.start, i.end))
    .join("\n");
}

export const aptHygiene: Pass = {
  meta: {
    id,
    title: "apt-get hygiene",
    summary: "apt-get update with install in one RUN, -y, --no-install-recommends, list cleanup, apt → apt-get",
    defaultEnabled: true,
    hadolintRules: ["DL3009", "DL3014", "DL3015", "DL3027"],
    doc: `## What it does
For every \`apt-get\`/\`apt\` call in a shell-form RUN:
- \`apt install|update|remove|purge|autoremove|dist-upgrade\` → \`apt-get …\` (DL3027);
- \`apt-get update &&\` before the first \`apt-get install\` of a RUN that has none;
- \`-y\` on \`apt-get install\` (DL3014);
- \`--no-install-recommends\` on \`apt-get install\` (DL3015, **unsafe**), adding
  \`ca-certificates\` when \`curl\`, \`wget\`, \`git\`… are installed without it;
- \`rm -rf /var/lib/apt/lists/*\` after the last apt command of a RUN that runs
  \`apt-get update\` (DL3009), only when caches are not kept in cache mounts
  (cache strategy \`none\`, or the cache-mounts pass is off) and the RUN has no
  apt cache mount of its own;
- merges \`apt-get install -y a && apt-get install -y b\` into one install
  (**unsafe**: one transaction configures packages in dependency order only,
  where the separate installs set each one up before the next began).

## Why
Official Debian and Ubuntu images ship empty package lists: an install in a RUN
without \`apt-get update\` either fails or, when an earlier layer updated,
installs from stale lists that the layer cache keeps forever. Without \`-y\`
the build fails at the first prompt. The lists weigh 20–50 MB and are useless
in the image; removing them in a later RUN saves nothing (guide 004: "remove
them in the same layer"). \`apt\` warns that its CLI is not stable for scripts.

## Example
\`\`\`dockerfile
RUN apt install curl
\`\`\`
becomes (with \`--cache-strategy none\`)
\`\`\`dockerfile
RUN apt-get update && apt-get install -y curl && rm -rf /var/lib/apt/lists/*
\`\`\`

## Safety
- \`apt\` → \`apt-get\`: safe for the subcommands listed (same solver, same
  result); \`apt upgrade\` (which also installs new dependencies, unlike
  \`apt-get upgrade\`) and \`apt full-upgrade\` are left alone.
- \`apt-get update\`: safe; it only refreshes the lists the install reads.
  It carries the options of the stage's own earlier update
  (\`-o Acquire::Check-Valid-Until=false\`, \`--allow-releaseinfo-change\`…:
  archived releases and proxies need them); not added when those options
  can't be reproduced (a word that expands, an update behind a wrapper).
  Not added when every argument is a local \`.deb\` file.
- \`-y\`: safe; it only answers the prompt a build cannot answer.
- \`--no-install-recommends\`: **unsafe**: a recommended package the app needs
  at run time (ca-certificates for HTTPS, build-essential for \`python3-pip\`,
  less for \`git\`…) is no longer installed. Not added to an install of
  \`python-pip\`/\`python3-pip\` when \`pip install\` runs later in the stage
  and a compiler, the Python headers and setuptools (their recommends) are
  not installed explicitly: building an sdist would fail.
- List cleanup: safe when nothing later reads the lists. Refused when a later
  RUN of the stage (or of a stage built on it) installs without its own
  \`apt-get update\`, or names apt where dfopt can't follow it (behind
  \`xargs\`, \`eatmydata\`, \`timeout\`, \`su -c\`, \`sh -c\`, in an exec-form
  RUN; \`gdebi\` and \`mk-build-deps\` also resolve from the lists): an
  unknown reader counts as a reader. **Unsafe** when a later command runs a script the
  Dockerfile doesn't show, which might. Skipped in builder stages whose layers
  are not shipped, and never inside an apt cache mount.
- Merging installs: safe when the two installs are joined by \`&&\`, have the
  same options and only plain package names.

## References
- guides 001 (apt cache dirs), 003 (\`--no-install-recommends\` in the runner), 004 (clean in the same layer)
- Docker best practices, apt-get: https://docs.docker.com/build/building/best-practices/#apt-get
- hadolint DL3009, DL3014, DL3015, DL3027
`,
  },
  run(file, options): PassResult {
    const changes: Change[] = [];
    const skips: Skip[] = [];
    const { runs } = analysableRuns(file);
    const shipped = shippedStages(file);
    for (const run of runs) {
      const calls = aptCalls(run.script);
      if (calls.length === 0) continue;
      aptToAptGet(run, calls, changes, skips);
      const chained = chainedNeighbours(file, run.node, options);
      if (!chained.previous) addUpdate(file, run, calls, changes, skips);
      addYes(file, run, calls, changes);
      addNoRecommends(file, run, calls, changes, skips);
      mergeInstalls(file, run, calls, changes);
      if (shipped.has(run.node.stage) && !chained.previous && !chained.next)
        addCleanup(file, run, calls, options, changes, skips);
    }
    return { changes, skips };
  },
};

function aptToAptGet(run: RunInfo, calls: AptCall[], changes: Change[], skips: Skip[]): void {
  for (const a of calls) {
    if (a.call.manager !== "apt") continue;
    const managerWord = a.command.words[a.call.argsFrom - 1]!;
    if (!APT_TO_APT_GET.has(a.subcommand)) {
      if (a.subcommand === "upgrade" || a.subcommand === "full-upgrade") {
        skips.push({
          pass: id,
          at: fileSpan(run.node, managerWord).start,
          reason: `apt ${a.subcommand} left as written: apt-get ${a.subcommand === "upgrade" ? "upgrade holds back upgrades that need new packages" : "names it dist-upgrade"}`,
        });
      }
      continue;
    }
    if (managerWord.source !== managerWord.value) continue;
    changes.push({
      pass: id,
      edits: [replaceSpan(run.node, managerWord, `${managerWord.value}-get`)],
      reason: `apt ${a.subcommand} → apt-get ${a.subcommand}: apt's CLI is not stable for scripts`,
      safety: "safe",
    });
  }
}

/** Options that only change what update prints or asks, not which lists it fetches. */
const OUTPUT_ONLY_OPTION = /^(-[qy]+|--quiet(=\d)?|-q=\d|--yes|--assume-yes|--fix-missing|-m)$/;

/**
 * The options the stage's last `apt-get update` before `node` ran with
 * (`-o Acquire::Check-Valid-Until=false`, `--allow-releaseinfo-change`…), as
 * written, so an added update reads the same sources the same way: `""`
 * for none or a plain update, null when they can't be reproduced (a word
 * that expands, or an update dfopt can't see through a wrapper or an
 * unparsed RUN).
 */
function earlierUpdateOptions(file: ParsedDockerfile, node: InstructionNode): string | null {
  const stage = file.stages[node.stage];
  if (!stage) return "";
  let options: string | null = "";
  for (const s of stageChain(file, stage)) {
    for (const i of s.instructions) {
      if (i.index >= node.index) break;
      if (i.keyword !== "RUN") continue;
      const text = file.text.slice(i.bodyStart, i.end);
      if (!i.shell?.parse.ok) {
        if (mentionsApt(text) && /\bupdate\b/.test(text)) options = null;
        continue;
      }
      const script = i.shell.parse.script;
      for (const c of commandsInOrder(script)) {
        const call = subcommandCall(c, APT);
        if (call?.subcommand === "update") {
          if (c.words.some((w) => w.value === null)) options = null;
          else {
            options = c.words
              .slice(call.call.argsFrom)
              .filter((w, k) => k + call.call.argsFrom !== call.sub && !OUTPUT_ONLY_OPTION.test(w.value!))
              .map((w) => ` ${w.source}`)
              .join("");
          }
        } else if (
          !call &&
          mentionsApt(script.source.slice(c.start, c.end)) &&
          /\bupdate\b/.test(script.source.slice(c.start, c.end))
        ) {
          // `eatmydata apt-get -o … update`, `su -c 'apt-get update'`: options unknown.
          options = null;
        }
      }
    }
  }
  return options;
}

function addUpdate(file: ParsedDockerfile, run: RunInfo, calls: AptCall[], changes: Change[], skips: Skip[]): void {
  const first = calls.find((a) => a.subcommand === "install");
  if (!first) return;
  if (commandsInOrder(run.script).some((c) => c.start < first.command.start && isUpdate(c))) return;
  // apt-get install ./x.deb needs no lists when the .deb's dependencies are there.
  const { packages } = splitArgs(first);
  if (packages.length > 0 && packages.every((p) => p !== null && p.endsWith(".deb"))) return;
  if (!canPrependBefore(run.script, first.command)) return;
  // The stage's own update may need options (archived releases, proxies): a plain one could fail.
  const options = earlierUpdateOptions(file, run.node);
  if (options === null) {
    skips.push({
      pass: id,
      at: fileSpan(run.node, first.command).start,
      reason: "apt-get update not added: the stage's earlier update has options dfopt can't reproduce",
    });
    return;
  }
  // `sudo` must stay; DEBIAN_FRONTEND only matters to the install.
  const prefix = prefixSource(run.script, first.command, first.call.argsFrom).replace(
    /\b(DEBIAN_FRONTEND|DEBCONF_[A-Z_]+)=\S*\s+/g,
    "",
  );
  const { start } = fileSpan(run.node, first.command);
  changes.push({
    pass: id,
    edits: [{ start, end: start, newText: `${prefix}apt-get${options} update && ` }],
    reason: "apt-get install without apt-get update in the same RUN reads missing or stale package lists",
    safety: "safe",
  });
}

function addYes(file: ParsedDockerfile, run: RunInfo, calls: AptCall[], changes: Change[]): void {
  if (/Assume-Yes/i.test(stageText(file, run.node))) return;
  for (const a of calls) {
    if (a.subcommand !== "install") continue;
    const { options } = splitArgs(a);
    if (
      hasOption(options, "y", ["--yes", "--assume-yes"]) ||
      options.some((o) => o !== null && /Assume-Yes/i.test(o))
    ) {
      continue;
    }
    const slot = slotOf(run.script, a.command);
    if (slot && slot.pipeline.commands.length > 1 && slot.pipeline.commands[0] !== a.command) continue; // `yes | apt-get install`
    changes.push({
      pass: id,
      edits: [insertAfterWord(run.node, a.command, a.sub, " -y")],
      reason: "apt-get install without -y stops at a prompt a build cannot answer",
      safety: "safe",
    });
  }
}

/** The distro pip packages, which only Recommend what building an sdist needs. */
const DISTRO_PIP = /^python(\d(\.\d+)?)?-pip$/;
const COMPILER = /^(build-essential|gcc(-\d+)?|g\+\+(-\d+)?|clang(-\d+)?)$/;
const PYTHON_DEV = /^(lib)?python(\d(\.\d+)?)?(-all)?-dev$/;
const SETUPTOOLS = /^python(\d(\.\d+)?)?-setuptools$/;

/**
 * python-pip/python3-pip only Recommend build-essential, python3-dev,
 * setuptools and wheel (`apt-cache show python3-pip`; older releases also
 * recommend setuptools): without them a later `pip install` of an sdist
 * fails (no gcc, no Python.h, no setuptools). Returns why the install must
 * keep its recommends, or null.
 */
function pipRecommendsNeeded(
  file: ParsedDockerfile,
  run: RunInfo,
  a: AptCall,
  names: readonly string[],
): string | null {
  const pip = names.find((n) => DISTRO_PIP.test(n));
  if (!pip) return null;
  const laterPip = (script: ShellScript, from: number): boolean =>
    commandsInOrder(script).some((c) => {
      if (c.start < from) return false;
      const call = packageManagerCall(c);
      if (call) return call.manager === "pip" && call.subcommand === "install";
      return /(^|[\s;&|()'"`=/])pip\d*(\.\d+)?\s+install\b/.test(script.source.slice(c.start, c.end));
    });
  const later = laterPip(run.script, a.command.end)
    ? "the RUN"
    : laterInstructions(file, run.node).find((i) => {
        if (i.keyword !== "RUN") return false;
        if (!i.shell?.parse.ok) return /\bpip\d*(\.\d+)?\s+install\b/.test(file.text.slice(i.bodyStart, i.end));
        return laterPip(i.shell.parse.script, 0);
      });
  if (!later) return null;
  const explicit = new Set<string>();
  const stage = file.stages[run.node.stage];
  for (const s of stage ? stageChain(file, stage) : []) {
    for (const i of s.instructions) {
      if (i.keyword !== "RUN" || !i.shell?.parse.ok || (s.index === run.node.stage && i.index > run.node.index))
        continue;
      for (const call of aptCalls(i.shell.parse.script)) {
        if (call.subcommand !== "install") continue;
        for (const p of splitArgs(call).packages) if (p !== null) explicit.add(p.split(/[=/]/)[0]!);
      }
    }
  }
  const has = (re: RegExp): boolean => [...explicit].some((n) => re.test(n));
  if (has(COMPILER) && has(PYTHON_DEV) && has(SETUPTOOLS)) return null;
  const where = later === "the RUN" ? "later in the RUN" : `on line ${later.line}`;
  return `${pip} only recommends build-essential, the Python headers and setuptools, and pip install runs ${where} without them installed explicitly`;
}

function addNoRecommends(
  file: ParsedDockerfile,
  run: RunInfo,
  calls: AptCall[],
  changes: Change[],
  skips: Skip[],
): void {
  if (/Install-Recommends/i.test(stageText(file, run.node))) return;
  for (const a of calls) {
    if (a.subcommand !== "install") continue;
    const { options, packages } = splitArgs(a);
    if (options.some((o) => o === null || /recommends/i.test(o))) continue;
    // Wait for -y (added by this pass, at the same spot) so the result doesn't depend on order.
    if (!hasOption(options, "y", ["--yes", "--assume-yes"])) {
      if (!options.some((o) => o !== null && /Assume-Yes/i.test(o))) continue;
    }
    if (packages.length === 0 || packages.some((p) => p === null)) continue;
    const names = packages.map((p) => p!.split(/[=/]/)[0]!);
    const pipMissing = pipRecommendsNeeded(file, run, a, names) ?? buildRecommendsNeeded(file, run, a, names);
    if (pipMissing) {
      skips.push({
        pass: id,
        at: fileSpan(run.node, a.command).start,
        reason: `--no-install-recommends not added: ${pipMissing}`,
      });
      continue;
    }
    const edits: Edit[] = [insertAfterWord(run.node, a.command, a.sub, " --no-install-recommends")];
    const added = NEEDED_RECOMMENDS.filter(
      (r) =>
        names.some(r.by) &&
        !names.includes(r.needs) &&
        !names.some((n) => r.already.some((base) => n === base || n.startsWith(`${base}-`))),
    );
    if (added.length > 0) {
      const last = a.command.words.length - 1;
      edits.push(insertAfterWord(run.node, a.command, last, added.map((r) => ` ${r.needs}`).join("")));
    }
    const extra = added.map((r) => ` (${r.needs} added: ${r.why})`).join("");
    changes.push({
      pass: id,
      edits,
      reason: `apt-get install --no-install-recommends installs only what the packages need${extra}`,
      safety: "unsafe",
      unsafeBecause:
        "recommended packages are no longer installed; if the app used one at run time (less for git, build-essential for python3-pip, fonts, locales…) it will be missing",
    });
  }
}

function mergeInstalls(file: ParsedDockerfile, run: RunInfo, calls: AptCall[], changes: Change[]): void {
  const installs = calls.filter((a) => a.subcommand === "install");
  const used = new Set<AptCall>();
  for (const first of installs) {
    if (used.has(first)) continue;
    const group = [first];
    for (;;) {
      const prev = group[group.length - 1]!;
      const next = installs.find((b) => !used.has(b) && b !== prev && adjacentAnd(run.script, prev, b));
      if (!next || !mergeable(run.script, first, next)) break;
      group.push(next);
    }
    if (group.length < 2) continue;
    const edits: Edit[] = [];
    for (let k = 1; k < group.length; k++) {
      const prev = group[k - 1]!;
      const cur = group[k]!;
      const { packageIdx } = splitArgs(cur);
      const prevEnd = fileSpan(run.node, prev.command.words[prev.command.words.length - 1]!).end;
      const curFirstPkg = fileSpan(run.node, cur.command.words[packageIdx[0]!]!).start;
      const removed = file.text.slice(prevEnd, curFirstPkg);
      // Never delete a comment line kept inside the RUN.
      if (/(^|[\r\n])[ \t]*#/.test(removed)) return;
      // Keep the layout of the second list: drop only `&& apt-get install -y` and what joins it.
      const lastOption = fileSpan(run.node, cur.command.words[packageIdx[0]! - 1]!).end;
      edits.push({ start: prevEnd, end: lastOption, newText: "" });
    }
    for (const g of group) used.add(g);
    changes.push({
      pass: id,
      edits,
      reason: `${group.length} consecutive apt-get installs with the same options merged into one`,
      safety: "unsafe",
      unsafeBecause:
        "one apt transaction orders unpacking and configuration by declared dependencies only: installed one after the other, each earlier package was fully set up (its keys, alternatives, locales, services) before the next install began, which an undeclared dependency may rely on",
    });
  }
}

/** `a && b` with a and b single commands, next to each other in one chain. */
function adjacentAnd(script: ShellScript, a: AptCall, b: AptCall): boolean {
  const sa = slotOf(script, a.command);
  const sb = slotOf(script, b.command);
  if (!sa || !sb || sa.andOr !== sb.andOr || sb.index !== sa.index + 1) return false;
  if (sa.andOr.ops[sa.index] !== "&&") return false;
  return sa.pipeline.commands.length === 1 && sb.pipeline.commands.length === 1;
}

function mergeable(script: ShellScript, a: AptCall, b: AptCall): boolean {
  for (const x of [a, b]) {
    if (x.command.redirects.length > 0 || x.command.words.some((w) => w.value === null)) return false;
    const { options, packages } = splitArgs(x);
    if (packages.length === 0) return false;
    if (options.some((o) => o !== null && OPTIONS_WITH_VALUE.has(o.split("=")[0]!))) return false;
    // `pkg-` removes, `./x.deb` is a file: keep their order.
    if (packages.some((p) => p!.endsWith("-") || p!.includes("/") || p!.endsWith(".deb"))) return false;
  }
  if (prefixSource(script, a.command, a.call.argsFrom) !== prefixSource(script, b.command, b.call.argsFrom)) {
    return false;
  }
  if (a.command.words[a.call.argsFrom - 1]!.value !== b.command.words[b.call.argsFrom - 1]!.value) return false;
  const oa = splitArgs(a).options.map(String).sort().join(" ");
  const ob = splitArgs(b).options.map(String).sort().join(" ");
  if (oa !== ob) return false;
  // b's options must all come before its packages (only the part before the packages is dropped).
  const { packageIdx } = splitArgs(b);
  return (
    packageIdx.every((idx, k) => idx === packageIdx[0]! + k) &&
    packageIdx[packageIdx.length - 1] === b.command.words.length - 1
  );
}

/** What reads the apt lists after a point: a refusal, or an opaque script making the change unsafe. */
function listReadersAfter(
  file: ParsedDockerfile,
  run: RunInfo,
  from: number,
): { refuse: string | null; opaque: string | null } {
  let opaque: string | null = null;
  for (const c of commandsInOrder(run.script)) {
    if (c.start < from) continue;
    if (readsLists(c, run.script.source)) return { refuse: "a later command of the RUN reads them", opaque };
    if (runsOpaqueScript(c, slotOf(run.script, c)?.pipeline ?? null) && mayUseApt(c)) {
      opaque ??= c.name ?? "a dynamic command";
    }
  }
  if (opaqueSources(run.script).some((src) => mentionsApt(src) && run.script.source.lastIndexOf(src) >= from)) {
    return { refuse: "a later compound command of the RUN names apt", opaque };
  }
  for (const later of laterInstructions(file, run.node)) {
    if (later.keyword !== "RUN") continue;
    if (later.form !== "shell" || !later.shell?.parse.ok) {
      if (mentionsApt(file.text.slice(later.bodyStart, later.end))) {
        return { refuse: `the RUN on line ${later.line} can't be analysed and names apt`, opaque };
      }
      continue;
    }
    const laterScript = later.shell.parse.script;
    if (opaqueSources(laterScript).some(mentionsApt)) {
      return { refuse: `the RUN on line ${later.line} names apt inside a command dfopt can't analyse`, opaque };
    }
    for (const c of commandsInOrder(laterScript)) {
      if (isUpdate(c)) break;
      if (readsLists(c, laterScript.source)) {
        return { refuse: `the RUN on line ${later.line} installs without apt-get update and reads them`, opaque };
      }
      if (runsOpaqueScript(c, slotOf(laterScript, c)?.pipeline ?? null) && mayUseApt(c)) {
        opaque ??= `${c.name ?? "a dynamic command"} (line ${later.line})`;
      }
    }
  }
  return { refuse: null, opaque };
}

/** `sh -c '…'` shows its script: only one that mentions apt may read the lists. */
function mayUseApt(command: SimpleCommand): boolean {
  const c = command.words.findIndex((w) => w.value === "-c");
  if (c > 0 && command.words[c + 1]?.value != null)
    return /\bapt(-get|-cache|itude)?\b/.test(command.words[c + 1]!.value!);
  const name = command.name ?? "";
  // Autotools and make-like build scripts never touch apt.
  return !/(^|\/)(configure|autogen\.sh|bootstrap(\.sh)?|config\.status)$/.test(name);
}

function addCleanup(
  file: ParsedDockerfile,
  run: RunInfo,
  calls: AptCall[],
  options: PassOptions,
  changes: Change[],
  skips: Skip[],
): void {
  if (cacheMode(options) !== "none") return;
  if (!calls.some((a) => a.subcommand === "update")) return;
  if (overlaps(cacheMountTargets(run.node), LISTS) || overlaps(cacheMountTargets(run.node), "/var/cache/apt")) return;
  if (removesLists(run.script)) return;
  const ordered = commandsInOrder(run.script);
  if (isUpdateOnly(run.script)) {
    removeUpdateOnlyRun(file, run, changes);
    return;
  }
  const firstUpdate = ordered.find(isUpdate)!;
  if (!ordered.some((c) => c.start > firstUpdate.start && readsLists(c, run.script.source))) return;
  const lastApt = [...ordered].reverse().find(isAptFamily)!;
  const at = fileSpan(run.node, lastApt).start;
  const slot = canAppendAfter(run.script, lastApt);
  if (!slot) {
    skips.push({
      pass: id,
      at,
      reason: "apt lists not removed: the last apt command is in a loop or not in a plain && chain",
    });
    return;
  }
  const sudo = /^\s*(\S+=\S*\s+)*sudo\b/.test(run.script.source.slice(lastApt.start, lastApt.end));
  const user = run.context.user.split(":")[0]!;
  if (!sudo && !run.context.userFromBase && user !== "root" && user !== "0") {
    skips.push({ pass: id, at, reason: `apt lists not removed: the RUN runs as ${user}` });
    return;
  }
  const { refuse, opaque } = listReadersAfter(file, run, slot.pipeline.end);
  if (refuse) {
    skips.push({ pass: id, at, reason: `apt lists kept: ${refuse}` });
    return;
  }
  changes.push({
    pass: id,
    edits: [appendAfter(file, run.node, slot, `${sudo ? "sudo " : ""}${CLEANUP}`)],
    reason: "the apt package lists are useless in the image; removing them in the same RUN keeps them out of the layer",
    safety: opaque ? "unsafe" : "safe",
    ...(opaque ? { unsafeBecause: `${opaque} runs afterwards and may read the apt lists without apt-get update` } : {}),
  });
}

/** `RUN apt-get update` and nothing else. */
function isUpdateOnly(script: ShellScript): boolean {
  if (script.statements.length !== 1) return false;
  const pipelines = script.statements[0]!.andOr.pipelines;
  if (pipelines.length !== 1 || pipelines[0]!.commands.length !== 1) return false;
  const command = pipelines[0]!.commands[0]!;
  return command.kind === "simple" && isUpdate(command);
}

/**
 * A RUN that only updates leaves the lists in its layer for good. Once every
 * later install runs its own update, nothing reads them: drop the RUN.
 */
function removeUpdateOnlyRun(file: ParsedDockerfile, run: RunInfo, changes: Change[]): void {
  const { refuse, opaque } = listReadersAfter(file, run, run.script.source.length);
  if (refuse) return;
  if (file.comments.some((c) => c.start > run.node.start && c.end < run.node.end)) return;
  changes.push({
    pass: id,
    edits: [deleteInstruction(file, run.node)],
    reason: "a RUN that only runs apt-get update leaves the lists in the image; every later install updates itself",
    safety: opaque ? "unsafe" : "safe",
    ...(opaque ? { unsafeBecause: `${opaque} runs afterwards and may read the apt lists without apt-get update` } : {}),
  });
}
