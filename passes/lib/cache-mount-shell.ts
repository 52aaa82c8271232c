/**
 * The shell-tree side of cache mounts: which calls in a RUN use which cache,
 * which commands wipe a cache directory, and whether such a command can be
 * removed from its `&&` chain without changing when anything else runs. All
 * offsets here are logical offsets of the RUN body (see src/logical.ts).
 */
import { parseUserAdd } from "./user-add.js";
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import type { AndOr, ShellScript, ShellWord, SimpleCommand, Span, Statement } from "../../src/shell.js";
import { memoByObject } from "../../src/memo.js";
import { allSimpleCommands } from "../../src/shell-facts.js";
import type { Edit } from "../../src/types.js";
import { type CacheSpec, pathRelation, type PathRelation, targetComponents } from "./cache-dirs.js";
import { packageManagerCall, subcommandIndex } from "./package-managers.js";

/** A package-manager call, as the cache table names tools. */
export interface ToolCall {
  /** `pip`, `apt-get`, `apt-cache`, `go`… (python -m pip and pip3 are `pip`). */
  readonly tool: string;
  readonly command: SimpleCommand;
  /** Index of the first word after the tool name. */
  readonly argsFrom: number;
  /** The subcommand, skipping options (and their values) before it; null if none or dynamic. */
  readonly subcommand: string | null;
  /** Run through sudo (so as another user than the RUN's). */
  readonly viaSudo: boolean;
}

const APT_TOOLS = new Set(["apt-cache", "apt-mark", "aptitude"]);

/**
 * Every package-manager call anywhere in the RUN (subshells and `if` bodies
 * too), once per script: parsed scripts are immutable and shared across
 * rounds, and cache-mounts asks several times per RUN.
 */
export const toolCalls: (script: ShellScript) => readonly ToolCall[] = memoByObject(findToolCalls);

function findToolCalls(script: ShellScript): ToolCall[] {
  const out: ToolCall[] = [];
  for (const command of allSimpleCommands(script.statements)) {
    const call = toolCall(command);
    if (call) out.push(call);
  }
  return out;
}

/** The call a command makes, remembered per command (models are immutable; several analyses ask per RUN). */
export const toolCall: (command: SimpleCommand) => ToolCall | null = memoByObject(findToolCall);

function findToolCall(command: SimpleCommand): ToolCall | null {
  const words = command.words.map((w) => w.value);
  let tool: string | null = null;
  let argsFrom = 0;
  const pm = packageManagerCall(command);
  if (pm) {
    tool = pm.manager;
    argsFrom = pm.argsFrom;
  } else {
    // apt-cache, apt-mark, aptitude: not install tools, but they open apt's cache.
    let i = 0;
    while (i < words.length && (words[i] === "sudo" || words[i] === "env" || words[i] === "command")) {
      i++;
      while (i < words.length && words[i] !== null && (words[i]!.startsWith("-") || /^[A-Za-z_]\w*=/.test(words[i]!)))
        i++;
    }
    const name = words[i];
    const base = name ? name.slice(name.lastIndexOf("/") + 1) : null;
    if (base && APT_TOOLS.has(base)) {
      tool = base;
      argsFrom = i + 1;
    }
  }
  if (tool === null) return null;
  const viaSudo = words.slice(0, argsFrom).some((w) => w === "sudo");
  return { tool, command, argsFrom, subcommand: subcommandOf(tool, words.slice(argsFrom)), viaSudo };
}

function subcommandOf(tool: string, args: readonly (string | null)[]): string | null {
  const i = subcommandIndex(tool, args, 0);
  return i < 0 ? null : args[i]!;
}

/** True when the call reads or writes the cache `spec` describes. */
export function callUsesCache(call: ToolCall, spec: CacheSpec): boolean {
  if (!spec.tools.includes(call.tool)) return false;
  // `yarn` alone, or `yarn --frozen-lockfile`, installs.
  const sub = call.subcommand ?? (call.tool === "yarn" && isBareYarn(call) ? "install" : null);
  if (spec.subcommands === "any") {
    if (sub !== null && spec.exceptSubcommands?.includes(sub)) return false;
    return sub !== null || call.command.words.length > call.argsFrom || call.tool === "aptitude";
  }
  return sub !== null && spec.subcommands.includes(sub);
}

function isBareYarn(call: ToolCall): boolean {
  return call.command.words.slice(call.argsFrom).every((w) => w.value !== null && w.value.startsWith("-"));
}

/** True when the call is one of the spec's cleanup subcommands (`npm cache clean --force`). */
export function cleanupOf(call: ToolCall, spec: CacheSpec): CacheSpec["cleanups"][number] | null {
  if (!spec.tools.includes(call.tool)) return null;
  const args = call.command.words.slice(call.argsFrom).map((w) => w.value);
  const positional = args.filter((a) => a === null || !a.startsWith("-"));
  for (const cleanup of spec.cleanups) {
    if (cleanup.args.every((a, k) => positional[k] === a)) {
      if (cleanup.withWord && !args.includes(cleanup.withWord)) continue;
      return cleanup;
    }
  }
  return null;
}

/* ------------------------------------------------------------------ */
/* Paths named by words                                                */
/* ------------------------------------------------------------------ */

export interface PathContext {
  /** HOME for `~` and `$HOME`, or null when unknown. */
  readonly home: string | null;
  /** ENV values in effect (null: set but unknown). */
  readonly env: ReadonlyMap<string, string | null>;
  /** Working directory for relative paths, or null when unknown (or the RUN cd's). */
  readonly cwd: string | null;
}

/**
 * The absolute path a word names, with `~`, `$HOME` and ENV variables
 * expanded; null when it depends on something only known at build time.
 * Globs are kept (`/var/lib/apt/lists/*`).
 */
export function wordPath(word: ShellWord, ctx: PathContext): string | null {
  let text: string | null = word.value;
  if (text === null) {
    // `$HOME/.cache`, `${GOPATH}/pkg`, "$PIP_CACHE_DIR": expand what the Dockerfile fixes.
    const source = word.source.replace(/^"(.*)"$/, "$1");
    if (/[`'"\\]|\$\(/.test(source)) return null;
    let unknown = false;
    text = source.replace(/\$\{([A-Za-z_]\w*)\}|\$([A-Za-z_]\w*)/g, (_m, braced?: string, bare?: string) => {
      const name = (braced ?? bare)!;
      const value = name === "HOME" ? (ctx.env.get("HOME") ?? ctx.home) : ctx.env.get(name);
      if (value === null || value === undefined) unknown = true;
      return value ?? "";
    });
    if (unknown || text.includes("$")) return null;
  }
  if (text === "~" || text.startsWith("~/")) {
    const home = ctx.env.get("HOME") ?? ctx.home;
    if (home === null || home === undefined) return null;
    text = home + text.slice(1);
  }
  if (text.startsWith("~")) return null;
  if (!text.startsWith("/")) {
    if (ctx.cwd === null) return null;
    text = `${ctx.cwd.replace(/\/+$/, "")}/${text}`;
  }
  return text;
}

/** How a word relates to the mount targets: the closest relation wins. */
export function wordRelation(
  word: ShellWord,
  targets: readonly string[],
  ctx: PathContext,
): { relation: PathRelation | "unknown"; target: string } | null {
  const path = wordPath(word, ctx);
  if (path === null) {
    // Unresolved: it may be the cache if it names one of the target's own directories.
    const source = word.source;
    const words = source.split(/[/"'${}()\s]+/).filter(Boolean);
    for (const t of targets) {
      const parts = targetComponents(t);
      if (
        parts.some((p) => words.includes(p)) ||
        (/\$\{?HOME\b|^~(\/|$)/.test(source) && t.startsWith(ctx.home ?? "\0"))
      ) {
        return { relation: "unknown", target: t };
      }
    }
    return null;
  }
  let best: { relation: PathRelation; target: string } | null = null;
  const rank: Record<PathRelation, number> = { ancestor: 3, mountpoint: 2, inside: 1, unrelated: 0 };
  for (const t of targets) {
    const relation = pathRelation(path, t);
    if (relation !== "unrelated" && (best === null || rank[relation] > rank[best.relation]))
      best = { relation, target: t };
  }
  return best;
}

/* ------------------------------------------------------------------ */
/* Commands that wipe or use a cache directory                         */
/* ------------------------------------------------------------------ */

/** One command of the RUN that touches a mounted cache directory. */
export interface CacheTouch {
  readonly command: SimpleCommand;
  /** `rm`: the path words and how each relates to the targets (null: unrelated). */
  readonly rmWords: readonly {
    readonly index: number;
    readonly relation: PathRelation | "unknown" | null;
    readonly target: string | null;
  }[];
  /** What the command is. */
  readonly kind: "rm" | "tool-cleanup" | "other";
  /** For tool cleanups and `other`: the target and relation it touches. */
  readonly target: string | null;
  readonly relation: PathRelation | "unknown" | null;
  /** Tool cleanup left in place: harmless or fails. */
  readonly cleanupLeft?: "harmless" | "fails";
}

/** Commands that walk the directories they are given. */
const TRAVERSERS = new Set(["cp", "mv", "tar", "rsync", "find", "du", "zip", "scp", "cpio"]);
/** Commands that walk them only with -R. */
const RECURSIVE_WITH_FLAG = new Set(["chown", "chmod", "chgrp", "ls", "setfacl"]);

/** Commands that may name a cache directory without changing it. */
const READ_ONLY_OK = new Set(["mkdir", "echo", "printf", "test", "[", "ls", "du", "true", ":"]);

/**
 * Every command of the RUN that wipes or works on one of the mounted
 * directories (package-manager calls themselves excluded, except their
 * cleanup subcommands: their paths are their business).
 */
export function cacheTouches(
  script: ShellScript,
  mounted: readonly { readonly spec: CacheSpec; readonly targets: readonly string[] }[],
  ctx: PathContext,
): CacheTouch[] {
  const out: CacheTouch[] = [];
  const targets = mounted.flatMap((m) => m.targets);
  for (const command of allSimpleCommands(script.statements)) {
    const call = toolCall(command);
    if (call) {
      for (const { spec, targets: own } of mounted) {
        const cleanup = cleanupOf(call, spec);
        if (!cleanup || own.length === 0) continue;
        out.push({
          command,
          rmWords: [],
          kind: "tool-cleanup",
          target: own[0]!,
          relation: "inside",
          cleanupLeft: cleanup.leftInPlace,
        });
      }
      continue;
    }
    const name = command.name ? command.name.slice(command.name.lastIndexOf("/") + 1) : null;
    if (name === "rm") {
      const words = rmOperands(command);
      if (words === null) {
        // `rm $(…)` or options we don't know: any word may be the cache.
        const related = command.words
          .slice(1)
          .map((w) => wordRelation(w, targets, ctx))
          .find((r) => r !== null);
        if (related) out.push({ command, rmWords: [], kind: "other", target: related.target, relation: "unknown" });
        continue;
      }
      const rmWords = words.map((index) => {
        const r = wordRelation(command.words[index]!, targets, ctx);
        return { index, relation: r?.relation ?? null, target: r?.target ?? null };
      });
      if (rmWords.some((w) => w.relation !== null))
        out.push({ command, rmWords, kind: "rm", target: null, relation: null });
      continue;
    }
    // Anything else naming the cache directory (or a redirect into it).
    const named: ShellWord[] = [...command.words.slice(1)];
    for (const r of command.redirects) {
      if (r.target !== null) named.push({ start: r.start, end: r.end, source: r.target, value: r.target });
    }
    const deletes = name === "find" && command.words.some((w) => w.value === "-delete" || w.value === "rm");
    // A mount shows up inside its parent for the whole RUN: commands that walk a
    // parent (`cp -r /etc/apk/* /out`, `chown -R app /home/app`) see the cache too.
    const walks =
      name !== null &&
      (TRAVERSERS.has(name) ||
        (RECURSIVE_WITH_FLAG.has(name) &&
          command.words.some((w) => w.value !== null && /^(-[a-zA-Z]*R[a-zA-Z]*|--recursive)$/.test(w.value))));
    for (const word of named) {
      const r = wordRelation(word, targets, ctx);
      if (r === null) continue;
      // A word we can't resolve (`echo "deb …/apt …"`) only matters to deleters;
      // a parent only to commands that walk it (not `tar -C /`, `ln -s x /`).
      if (r.relation === "unknown" && !deletes) continue;
      if (r.relation === "ancestor" && !(deletes || (walks && wordPath(word, ctx) !== "/"))) continue;
      if (name !== null && READ_ONLY_OK.has(name) && r.relation !== "unknown" && command.redirects.length === 0)
        continue;
      out.push({ command, rmWords: [], kind: "other", target: r.target, relation: r.relation });
      break;
    }
  }
  return out;
}

/** Indexes of rm's path operands, or null when its options can't be read. */
function rmOperands(command: SimpleCommand): number[] | null {
  const out: number[] = [];
  let options = true;
  for (let i = 1; i < command.words.length; i++) {
    const v = command.words[i]!.value;
    if (options && v !== null && v === "--") {
      options = false;
      continue;
    }
    if (options && v !== null && v.startsWith("-") && v !== "-") {
      if (!/^(-[rRfvdI]+|--(recursive|force|verbose|dir|one-file-system|no-preserve-root|preserve-root))$/.test(v)) {
        return null;
      }
      continue;
    }
    out.push(i);
  }
  return out;
}

/* ------------------------------------------------------------------ */
/* Where a command sits, and removing it                               */
/* ------------------------------------------------------------------ */

export interface TopSlot {
  readonly statementIndex: number;
  readonly statement: Statement;
  readonly andOr: AndOr;
  readonly pipelineIndex: number;
}

/** The top-level statement and pipeline a command runs in directly (no compound around it). */
export function topSlot(script: ShellScript, command: SimpleCommand): TopSlot | null {
  for (let s = 0; s < script.statements.length; s++) {
    const statement = script.statements[s]!;
    const pipelines = statement.andOr.pipelines;
    for (let p = 0; p < pipelines.length; p++) {
      const pipeline = pipelines[p]!;
      if (pipeline.commands.length === 1 && pipeline.commands[0] === command && !pipeline.negated) {
        return { statementIndex: s, statement, andOr: statement.andOr, pipelineIndex: p };
      }
    }
  }
  return null;
}

/** The top-level statement and pipeline index that contain a span (the command may be nested). */
export function enclosingTop(script: ShellScript, span: Span): TopSlot | null {
  for (let s = 0; s < script.statements.length; s++) {
    const statement = script.statements[s]!;
    if (span.start < statement.start || span.end > statement.end) continue;
    const pipelines = statement.andOr.pipelines;
    for (let p = 0; p < pipelines.length; p++) {
      const pl = pipelines[p]!;
      if (span.start >= pl.start && span.end <= pl.end) {
        return { statementIndex: s, statement, andOr: statement.andOr, pipelineIndex: p };
      }
    }
  }
  return null;
}

/** True when the command always runs once the RUN gets there: top level, only `&&` before it. */
export function runsUnconditionally(script: ShellScript, span: Span): boolean {
  const slot = enclosingTop(script, span);
  if (!slot || slot.statement.background) return false;
  return slot.andOr.ops.slice(0, slot.pipelineIndex).every((op) => op === "&&");
}

/**
 * Why a command can't be taken out of the RUN, or null when it can: it must
 * run alone in its pipeline at top level, joined by `&&` on both sides (so
 * `a && rm x && b` becomes `a && b`), never in an `||` branch, not
 * backgrounded, with no redirect other than to /dev/null (a `VAR=x` prefix
 * only applies to the command itself, so it goes with it); and when it is a whole statement, not the last one (the RUN's
 * exit status is the last statement's).
 */
export function removalRefusal(script: ShellScript, command: SimpleCommand): string | null {
  const slot = topSlot(script, command);
  if (!slot) return "it is nested in a compound command, a pipeline or a subshell";
  if (slot.statement.background) return "it runs in the background";
  const { andOr, pipelineIndex: i } = slot;
  if ((i > 0 && andOr.ops[i - 1] !== "&&") || (i < andOr.ops.length && andOr.ops[i] !== "&&")) {
    return "it is in an || branch";
  }
  if (command.redirects.some((r) => !/^[0-9]*>&[0-9-]$/.test(`${r.op}${r.target ?? ""}`) && r.target !== "/dev/null")) {
    return "it redirects into a file";
  }
  if (andOr.pipelines.length === 1) {
    if (script.statements.length === 1) return "it is the RUN's only command";
    if (slot.statementIndex === script.statements.length - 1) {
      return "it is the RUN's last statement, whose exit status is the RUN's";
    }
  }
  return null;
}

/**
 * File edits that remove the given commands (each passed `removalRefusal`)
 * from their chains: runs of neighbours in one `&&` chain go together, a
 * chain that loses every pipeline loses its statement. Returns null when the
 * text to remove holds a comment line (comments are never dropped).
 */
export function removeCommands(
  file: ParsedDockerfile,
  node: InstructionNode,
  script: ShellScript,
  commands: readonly SimpleCommand[],
): Edit[] | null {
  const logical = node.shell!.logical;
  const fo = logical.fileOffsets;
  const byStatement = new Map<number, number[]>();
  for (const c of commands) {
    const slot = topSlot(script, c)!;
    byStatement.set(slot.statementIndex, [...(byStatement.get(slot.statementIndex) ?? []), slot.pipelineIndex]);
  }
  const edits: Edit[] = [];
  const source = script.source;
  const opStart = (andOr: AndOr, k: number): number => {
    const from = andOr.pipelines[k - 1]!.end;
    return from + source.slice(from, andOr.pipelines[k]!.start).indexOf("&&");
  };
  for (const [s, indexes] of byStatement) {
    const statement = script.statements[s]!;
    const andOr = statement.andOr;
    const n = andOr.pipelines.length;
    const sorted = [...new Set(indexes)].sort((a, b) => a - b);
    if (sorted.length === n) {
      const next = script.statements[s + 1];
      if (!next) return null;
      edits.push({ start: fo[statement.start]!, end: fo[next.start]!, newText: "" });
      continue;
    }
    // Group consecutive pipelines.
    const groups: [number, number][] = [];
    for (const k of sorted) {
      const last = groups[groups.length - 1];
      if (last && last[1] === k - 1) last[1] = k;
      else groups.push([k, k]);
    }
    for (const [i, j] of groups) {
      // Candidate ranges, each leaving a well-formed chain; the first that
      // holds no comment line wins.
      const candidates: [number, number][] = [];
      const afterPrevious: [number, number] | null =
        i > 0 ? [fo[andOr.pipelines[i - 1]!.end]!, fo[andOr.pipelines[j]!.end - 1]! + 1] : null;
      if (i > 0 && j < n - 1) {
        // `a \ && rm x \ && b`: from the end of `a` to the end of `x` (what removing
        // `x` from the end of its RUN and then chaining `b` would give), else from
        // the `&&` before `x` to the `&&` after it.
        candidates.push(afterPrevious!, [fo[opStart(andOr, i)]!, fo[opStart(andOr, j + 1)]!]);
      } else if (i === 0) {
        candidates.push([fo[andOr.pipelines[0]!.start]!, fo[andOr.pipelines[j + 1]!.start]!]);
      } else {
        candidates.push(afterPrevious!);
      }
      const range = candidates.find(([start, end]) => !/(^|[\r\n])[ \t]*#/.test(file.text.slice(start, end)));
      if (!range) return null;
      edits.push({ start: range[0], end: range[1], newText: "" });
    }
  }
  for (const e of edits) {
    if (/(^|[\r\n])[ \t]*#/.test(file.text.slice(e.start, e.end))) return null;
  }
  return edits;
}

/** Remove a `VAR=value` prefix of a command together with the blanks after it. */
export function removeAssignmentEdit(node: InstructionNode, command: SimpleCommand, index: number): Edit {
  const fo = node.shell!.logical.fileOffsets;
  const assign = command.assigns[index]!;
  const next = command.assigns[index + 1] ?? command.words[0];
  const end = next ? fo[next.start]! : fo[assign.end - 1]! + 1;
  return { start: fo[assign.start]!, end, newText: "" };
}

/* ------------------------------------------------------------------ */
/* Commands whose effect can't be seen                                 */
/* ------------------------------------------------------------------ */

const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh"]);
const APT_NAMES = new Set(["apt-get", "apt", "aptitude", "apt-cache"]);
/** Wrappers that run their arguments as a command (`xargs apt-get install`). */
const RUNNERS = new Set(["xargs", "eval", "su", "chroot", "timeout", "nohup", "stdbuf", "fakeroot", "flock", "watch"]);
/** Wrappers that run the rest of their words as a command. */
const WRAPPERS = new Set(["sudo", "env", "nice", "time", "command", "exec", "nohup", "stdbuf"]);

/** Index of the word a chain of wrappers (and their options and assignments) runs; the last word at most. */
function firstAfterWrappers(words: readonly ShellWord[]): number {
  let i = 0;
  while (i < words.length - 1 && WRAPPERS.has(words[i]!.value ?? "")) {
    i++;
    while (i < words.length - 1 && words[i]!.value !== null && /^(-|[A-Za-z_]\w*=)/.test(words[i]!.value!)) i++;
  }
  return i;
}
/** Scripts known not to install packages. */
const KNOWN_SCRIPTS = new Set(["configure", "autogen.sh"]);

/** How sure we are that an opaque command runs apt: `apt` (it names it) or `maybe`. */
export interface OpaqueCommand {
  readonly command: SimpleCommand;
  readonly apt: "apt" | "maybe";
}

/**
 * Commands of the RUN that may run apt (or anything) without the model
 * seeing it: a command name only known at build time (`$APT_INST wget`), a
 * script (`./install.sh`, `sh setup.sh`, `curl … | bash`, `source x`), a
 * `sh -c '…apt…'` string, or apt passed to a runner (`xargs apt-get …`).
 */
export function opaqueCommands(
  script: ShellScript,
  env: ReadonlyMap<string, string | null> = new Map(),
): OpaqueCommand[] {
  const out: OpaqueCommand[] = [];
  const mentionsApt = (text: string) => /\bapt(-get|-cache)?\b|\baptitude\b/.test(text);
  for (const command of allSimpleCommands(script.statements)) {
    if (toolCall(command)) continue;
    // `sudo bash`, `env X=1 ./setup.sh`: look at what the wrapper runs.
    const words = command.words.slice(firstAfterWrappers(command.words));
    if (words.length === 0) continue;
    const name = words[0]!.value;
    if (name === null) {
      // `$APT_INST wget` with ENV APT_INST="apt-get install -y": apt for sure.
      const vars = [...words[0]!.source.matchAll(/\$\{?([A-Za-z_]\w*)/g)].map((m) => env.get(m[1]!));
      out.push({ command, apt: vars.some((v) => v && mentionsApt(v)) ? "apt" : "maybe" });
      continue;
    }
    const base = name.slice(name.lastIndexOf("/") + 1);
    if (KNOWN_SCRIPTS.has(base)) continue;
    if (name === "source" || name === "." || base.endsWith(".sh") || (name.includes("/") && !APT_NAMES.has(base))) {
      out.push({ command, apt: "maybe" });
      continue;
    }
    if (SHELLS.has(base)) {
      const rest = words.slice(1);
      const c = rest.findIndex((w) => w.value !== null && /^-[a-z]*c[a-z]*$/.test(w.value));
      if (c >= 0) {
        if (mentionsApt(rest[c + 1]?.source ?? "")) out.push({ command, apt: "apt" });
      } else {
        // `bash script.sh`, or `curl … | bash` reading its script from stdin.
        out.push({ command, apt: "maybe" });
      }
      continue;
    }
    if (RUNNERS.has(base) && words.slice(1).some((w) => w.value !== null && APT_NAMES.has(w.value))) {
      out.push({ command, apt: "apt" });
    }
  }
  return out;
}

/* ------------------------------------------------------------------ */
/* Commands that create the mount point or a parent of it              */
/* ------------------------------------------------------------------ */

/** A command of the RUN that creates (or replaces) a mount target or one of its parents. */
export interface CacheCreation {
  readonly command: SimpleCommand;
  readonly target: string;
  /** What goes wrong once BuildKit has created the directory first. */
  readonly why: string;
}

/**
 * Commands that create a directory which, under a cache mount, already
 * exists when the RUN starts: BuildKit creates the mount point and every
 * missing parent before the command runs. Then `mkdir DIR` (without -p)
 * fails with "File exists", `git clone URL DIR` fails on a non-empty
 * directory, `ln -s X DIR` makes the link inside DIR, `useradd -m` of that
 * home skips /etc/skel and leaves it owned by root. (`mv`/`cp`/`tar -C`
 * into it walk the directory and are caught by `cacheTouches`.) A path only
 * known at build time that may be the target counts too.
 */
export function cacheCreations(script: ShellScript, targets: readonly string[], ctx: PathContext): CacheCreation[] {
  const out: CacheCreation[] = [];
  const hit = (command: SimpleCommand, word: ShellWord | string, why: string): boolean => {
    let r: { relation: PathRelation | "unknown"; target: string } | null;
    if (typeof word === "string") {
      const p = word.startsWith("/") ? word : ctx.cwd === null ? null : `${ctx.cwd.replace(/\/+$/, "")}/${word}`;
      r = null;
      if (p !== null) {
        for (const t of targets) {
          const rel = pathRelation(p, t);
          if (rel === "mountpoint" || rel === "ancestor") r = { relation: rel, target: t };
        }
      } else {
        const parts = targets.map((t) => ({ t, parts: targetComponents(t) }));
        const found = parts.find((x) => x.parts.includes(word.replace(/\/+$/, "")));
        r = found ? { relation: "unknown", target: found.t } : null;
      }
    } else {
      r = wordRelation(word, targets, ctx);
    }
    if (r === null || r.relation === "inside" || r.relation === "unrelated") return false;
    // `/` and other paths that always exist are never created.
    if (typeof word !== "string" && wordPath(word, ctx) === "/") return false;
    out.push({ command, target: r.target, why });
    return true;
  };
  for (const written of allSimpleCommands(script.statements)) {
    const command = unwrapped(written);
    const name = command.name ? command.name.slice(command.name.lastIndexOf("/") + 1) : null;
    const words = command.words;
    if (name === "mkdir") {
      const operands = mkdirOperands(command);
      if (operands === "parents") continue;
      // Unknown options: every word may be a directory it creates.
      const candidates = operands ?? words.slice(1).map((_w, k) => k + 1);
      for (const k of candidates) {
        if (hit(command, words[k]!, `\`mkdir\` without -p fails with "File exists" once BuildKit has created it`))
          break;
      }
      continue;
    }
    if (name === "git") {
      const args = words.slice(1).map((w) => w.value);
      const sub = args.findIndex((a) => a !== null && !a.startsWith("-"));
      if (sub < 0 || (args[sub] !== "clone" && args[sub] !== "worktree")) continue;
      const positional = positionalWords(words.slice(sub + 2), GIT_CLONE_VALUE_FLAGS);
      const why = "`git clone` into an existing non-empty directory fails";
      if (positional.length >= 2) hit(command, positional[positional.length - 1]!, why);
      else if (positional.length === 1 && positional[0]!.value !== null) {
        // The directory is the repository's name, in the working directory.
        const base = positional[0]!.value.replace(/\/+$/, "").replace(/\.git$/, "");
        const name = base.slice(Math.max(base.lastIndexOf("/"), base.lastIndexOf(":")) + 1);
        if (name !== "") hit(command, name, why);
      }
      continue;
    }
    if (name === "ln") {
      const positional = positionalWords(words.slice(1), new Set(["-S", "--suffix", "-t", "--target-directory"]));
      const why = "`ln` onto an existing directory makes the link inside it instead";
      if (positional.length >= 2) hit(command, positional[positional.length - 1]!, why);
      else if (positional.length === 1 && positional[0]!.value !== null) {
        const v = positional[0]!.value.replace(/\/+$/, "");
        hit(command, v.slice(v.lastIndexOf("/") + 1), why);
      }
      continue;
    }
    if (name === "useradd" || name === "adduser") {
      const home = createdHome(command);
      if (home !== null) {
        hit(
          command,
          home,
          `\`${name}\` finds the home directory already there (made by BuildKit for the mount), so it skips /etc/skel and leaves it owned by root`,
        );
      }
    }
  }
  return out;
}

/** `sudo mkdir x`, `env A=1 mkdir x` → `mkdir x`. */
function unwrapped(command: SimpleCommand): SimpleCommand {
  const words = command.words;
  const i = firstAfterWrappers(words);
  if (i === 0) return command;
  const rest = words.slice(i);
  return { ...command, words: rest, name: rest[0]!.value };
}

/** Indexes of mkdir's directory operands; "parents" with -p; null when its options can't be read. */
function mkdirOperands(command: SimpleCommand): number[] | "parents" | null {
  const out: number[] = [];
  let options = true;
  let parents = false;
  const words = command.words;
  for (let i = 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (options && v === "--") {
      options = false;
      continue;
    }
    if (options && v !== null && v.startsWith("--")) {
      if (v === "--parents") parents = true;
      else if (v === "--mode") i++;
      else if (!/^--(mode=.*|verbose|context(=.*)?|help|version)$/.test(v)) return null;
      continue;
    }
    if (options && v !== null && v.startsWith("-") && v !== "-") {
      for (let k = 1; k < v.length; k++) {
        const c = v[k]!;
        if (c === "p") parents = true;
        else if (c === "m") {
          if (k === v.length - 1) i++;
          break;
        } else if (c !== "v" && c !== "Z") return null;
      }
      continue;
    }
    if (options && v === null && words[i]!.source.startsWith("-")) return null;
    out.push(i);
  }
  return parents ? "parents" : out;
}

const GIT_CLONE_VALUE_FLAGS = new Set([
  "-b",
  "--branch",
  "-o",
  "--origin",
  "--depth",
  "-c",
  "--config",
  "-u",
  "--upload-pack",
  "--reference",
  "--separate-git-dir",
  "--template",
  "-j",
  "--jobs",
  "--shallow-since",
  "--shallow-exclude",
  "--filter",
]);

/** The words that are not options (nor the values of `valueFlags`). */
function positionalWords(words: readonly ShellWord[], valueFlags: ReadonlySet<string>): ShellWord[] {
  const out: ShellWord[] = [];
  let options = true;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (options && v === "--") {
      options = false;
      continue;
    }
    if (options && v !== null && v.startsWith("-") && v !== "-") {
      if (valueFlags.has(v)) i++;
      continue;
    }
    out.push(words[i]!);
  }
  return out;
}

/** The home directory `useradd`/`adduser` creates (absolute), or null when it creates none or it can't be told. */
function createdHome(command: SimpleCommand): string | null {
  const add = parseUserAdd(command);
  if (!add || !add.createsHome) return null;
  if (add.home !== null) return add.home;
  return add.name === null ? null : `${add.baseDir.replace(/\/+$/, "")}/${add.name}`;
}
