/**
 * Recognising package-manager invocations in a parsed RUN body. Every pass
 * that reasons about installs (cache mounts, hygiene, builder/runner,
 * Alpine→Debian, manifest-first) asks here, so "what counts as a pip
 * install" has one answer.
 */
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
 * The package manager a simple command runs, if any: `pip install`,
 * `python3 -m pip install`, `sudo apt-get install`, `uv pip install`…
 */
export function packageManagerCall(command: SimpleCommand): PackageManagerCall | null {
  const words = command.words.map((w) => w.value);
  let i = 0;
  // Skip `sudo`, `env A=b`, … so the real command is found.
  while (i < words.length && words[i] !== null && TRANSPARENT_PREFIXES.has(words[i]!)) {
    i++;
    while (
      i < words.length &&
      words[i] !== null &&
      (words[i]!.startsWith("-") || /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]!))
    )
      i++;
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
