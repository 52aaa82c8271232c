/**
 * Recognising package-manager invocations in a parsed RUN body. Every pass
 * that reasons about installs (cache mounts, hygiene, builder/runner,
 * Alpine→Debian, manifest-first) asks here, so "what counts as a pip
 * install" has one answer.
 */
import { memoByObject } from "../../src/memo.js";
import type { SimpleCommand } from "../../src/shell.js";

export type PackageManager =
  | "pip"
  | "apt-get"
  | "apt"
  | "apk"
  | "npm"
  | "yarn"
  | "pnpm"
  | "go"
  | "cargo"
  | "uv"
  | "poetry"
  | "gem"
  | "bundle"
  | "yum"
  | "dnf"
  | "microdnf"
  | "composer";

export interface PackageManagerCall {
  readonly manager: PackageManager;
  readonly command: SimpleCommand;
  /** Index in `command.words` of the first word after the manager itself (the subcommand). */
  readonly argsFrom: number;
  /** The subcommand (`install`, `add`, `update`…), or null if it is not static. */
  readonly subcommand: string | null;
  /** Static values of the words after the manager (null where a word expands). */
  readonly args: readonly (string | null)[];
}

const DIRECT: Record<string, PackageManager> = {
  pip: "pip",
  pip3: "pip",
  "apt-get": "apt-get",
  apt: "apt",
  apk: "apk",
  npm: "npm",
  yarn: "yarn",
  pnpm: "pnpm",
  go: "go",
  cargo: "cargo",
  uv: "uv",
  poetry: "poetry",
  gem: "gem",
  bundle: "bundle",
  bundler: "bundle",
  yum: "yum",
  dnf: "dnf",
  microdnf: "microdnf",
  composer: "composer",
};

/** `pip`, `pip3`, `pip3.11`, `/usr/local/bin/pip`… */
function directManager(name: string): PackageManager | null {
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (/^pip\d+(\.\d+)?$/.test(base)) return "pip";
  return DIRECT[base] ?? null;
}

/** `python`, `python3`, `python3.11`, `/usr/bin/python3`. */
export function isPython(name: string): boolean {
  return /^python(\d+(\.\d+)?)?$/.test(name.slice(name.lastIndexOf("/") + 1));
}

/** Wrappers that run their argument as a command (`sudo apt-get …`). */
const TRANSPARENT_PREFIXES = new Set(["sudo", "env", "nice", "time", "command", "exec"]);

/**
 * Options of those wrappers that take the next word as their value
 * (`sudo -u root apt-get`, `nice -n 10 pip`, `env -u VAR pip`): the value is
 * not the command.
 */
const PREFIX_OPTIONS_WITH_VALUE: Readonly<Record<string, readonly string[]>> = {
  sudo: [
    "-u",
    "-g",
    "-C",
    "-D",
    "-h",
    "-p",
    "-r",
    "-t",
    "-T",
    "-U",
    "-R",
    "--user",
    "--group",
    "--close-from",
    "--chdir",
    "--host",
    "--prompt",
    "--role",
    "--type",
    "--other-user",
    "--command-timeout",
    "--chroot",
  ],
  env: ["-u", "-C", "-S", "--unset", "--chdir", "--split-string"],
  nice: ["-n", "--adjustment"],
  time: ["-f", "-o", "--format", "--output"],
};

/**
 * Index of the first word after a wrapper's options (and `env`'s
 * assignments), starting at `from` (the word after the wrapper's name).
 */
function skipPrefixOptions(prefix: string, words: readonly (string | null)[], from: number): number {
  const takesValue = PREFIX_OPTIONS_WITH_VALUE[prefix] ?? [];
  let i = from;
  while (i < words.length && words[i] !== null) {
    const w = words[i]!;
    if (w === "--") return i + 1;
    if (w.startsWith("-")) {
      // `-u root`, or a cluster ending in such a letter (`-Eu root`); `-uroot` and `--user=root` hold their value.
      const last = /^-[A-Za-z]+$/.test(w) ? `-${w.slice(-1)}` : w;
      i += takesValue.includes(w) || takesValue.includes(last) ? 2 : 1;
    } else if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) i++;
    else break;
  }
  return i;
}

/**
 * The package manager a simple command runs, if any: `pip install`,
 * `python3 -m pip install`, `sudo apt-get install`, `uv pip install`…
 * Remembered per command: shell models are immutable and shared by source
 * across rounds and passes, and most passes ask about every command of
 * every RUN.
 */
export const packageManagerCall: (command: SimpleCommand) => PackageManagerCall | null = memoByObject(findCall);

function findCall(command: SimpleCommand): PackageManagerCall | null {
  const words = command.words.map((w) => w.value);
  let i = 0;
  // Skip `sudo`, `env A=b`, … so the real command is found.
  while (i < words.length && words[i] !== null && TRANSPARENT_PREFIXES.has(words[i]!)) {
    i = skipPrefixOptions(words[i]!, words, i + 1);
  }
  const name = words[i];
  if (name === null || name === undefined) return null;
  let manager = directManager(name);
  let argsFrom = i + 1;
  if (manager === null && isPython(name)) {
    // python [-flags] -m pip …
    let j = i + 1;
    while (j < words.length && words[j] !== null && words[j]!.startsWith("-") && words[j] !== "-m") j++;
    if (words[j] === "-m" && (words[j + 1] === "pip" || words[j + 1] === "pip3")) {
      manager = "pip";
      argsFrom = j + 2;
    }
  }
  if (manager === null) return null;
  const args = words.slice(argsFrom);
  const subcommand = firstNonFlag(args);
  return { manager, command, argsFrom, subcommand, args };
}

function firstNonFlag(args: readonly (string | null)[]): string | null {
  for (const a of args) {
    if (a === null) return null;
    if (!a.startsWith("-")) return a;
  }
  return null;
}

/** True for calls that install packages (`pip install`, `apt-get install`, `apk add`, `npm ci`…). */
export function isInstall(call: PackageManagerCall): boolean {
  const sub = call.subcommand;
  switch (call.manager) {
    case "apk":
      return sub === "add";
    case "npm":
      return sub === "install" || sub === "i" || sub === "ci" || sub === "add";
    case "yarn":
      return sub === null || sub === "install" || sub === "add";
    case "pnpm":
      return sub === "install" || sub === "i" || sub === "add";
    case "go":
      return sub === "mod" || sub === "build" || sub === "install" || sub === "get";
    case "cargo":
      return sub === "build" || sub === "install" || sub === "fetch";
    case "uv":
      return sub === "pip" || sub === "sync" || sub === "add";
    case "poetry":
      return sub === "install";
    case "bundle":
      return sub === null || sub === "install";
    case "composer":
      return sub === "install";
    default:
      return sub === "install";
  }
}

const YUM_VALUE_OPTIONS: readonly string[] = [
  "-c",
  "-d",
  "-e",
  "-x",
  "-R",
  "--config",
  "--installroot",
  "--releasever",
  "--setopt",
  "--exclude",
  "--enablerepo",
  "--disablerepo",
  "--repo",
  "--repoid",
];

const APT_VALUE_OPTIONS: readonly string[] = [
  "-o",
  "-c",
  "-t",
  "-a",
  "--option",
  "--config-file",
  "--target-release",
  "--default-release",
  "--host-architecture",
];

/**
 * Options that take the next word as their value, per tool: the subcommand is
 * the first word after the options that is not such a value (`apt-get -o
 * Dpkg::Options::=--force-confnew install`, `apk --repository URL add`).
 * Shared by every pass that looks for a subcommand.
 */
export const OPTIONS_WITH_VALUE: Readonly<Record<string, readonly string[]>> = {
  "apt-get": APT_VALUE_OPTIONS,
  apt: APT_VALUE_OPTIONS,
  "apt-cache": ["-o", "-c", "--option", "--config-file"],
  "apt-mark": ["-o", "-c", "--option", "--config-file", "--file"],
  aptitude: ["-o", "-t", "--target-release", "--option"],
  apk: [
    "-X",
    "--repository",
    "-p",
    "--root",
    "--arch",
    "--cache-dir",
    "--keys-dir",
    "--repositories-file",
    "--progress-fd",
    "-t",
    "--virtual",
    "--cache-max-age",
    "--timeout",
    "--wait",
  ],
  npm: ["--prefix", "-C", "--cache", "--userconfig", "--registry", "--loglevel", "-w", "--workspace"],
  yarn: ["--cwd", "--cache-folder", "--modules-folder", "--network-timeout", "--mutex", "--registry"],
  pnpm: ["-C", "--dir", "--filter", "-F", "--store-dir"],
  go: ["-C"],
  cargo: ["-Z", "--config", "-C", "--color"],
  pip: [
    "--cache-dir",
    "--log",
    "--proxy",
    "--retries",
    "--timeout",
    "--exists-action",
    "--trusted-host",
    "--cert",
    "--client-cert",
    "--python",
  ],
  yum: YUM_VALUE_OPTIONS,
  dnf: YUM_VALUE_OPTIONS,
  microdnf: YUM_VALUE_OPTIONS,
  uv: ["--cache-dir", "--directory", "--project", "--config-file", "--color"],
  poetry: ["-C", "--directory", "--project"],
};

/**
 * Index in `words` of the subcommand of `tool` (first word from `from` that is
 * neither an option nor an option's value); -1 when there is none or a word
 * before it expands (its meaning is unknown).
 */
export function subcommandIndex(tool: string, words: readonly (string | null)[], from: number): number {
  const takesValue = OPTIONS_WITH_VALUE[tool] ?? [];
  for (let i = from; i < words.length; i++) {
    const w = words[i];
    if (w === null || w === undefined) return -1;
    if (takesValue.includes(w)) i++;
    else if (w.startsWith("-")) continue;
    // `cargo +nightly build`: a toolchain, not a subcommand.
    else if (tool === "cargo" && w.startsWith("+")) continue;
    else return i;
  }
  return -1;
}

/** apt-get/apt subcommands that read the package lists `apt-get update` puts in /var/lib/apt/lists. */
export const APT_LIST_READERS: ReadonlySet<string> = new Set([
  "install",
  "upgrade",
  "dist-upgrade",
  "full-upgrade",
  "source",
  "build-dep",
  "download",
  "reinstall",
  "satisfy",
]);
