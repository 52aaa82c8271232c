/**
 * What the chain-runs pass must know about one RUN body before it can be
 * joined to its neighbours with `&&`: its shape (one statement or several,
 * `||`, a trailing `;`, a comment), the shell state it leaves behind, whether
 * it might switch on errexit, and the few things a separate RUN does that one
 * shell does not (a fresh /bin/sh, a fresh /etc/hosts, stopped daemons, a
 * fresh command hash table).
 *
 * Docker runs every RUN as its own `/bin/sh -c '<body>'` (or the SHELL) in a
 * new container: nothing but the filesystem carries over. Chaining two bodies
 * in one shell is only the same build when nothing else carried over either.
 */
import { memoByObject } from "../../src/memo.js";
import { parseShell, type Command, type ShellScript, type SimpleCommand, type Statement } from "../../src/shell.js";
import { currentShellCommands, STATE_CHANGING_BUILTINS, stateEffects } from "../../src/shell-facts.js";
import { APT_LIST_READERS, packageManagerCall } from "./package-managers.js";

/** A simple command found anywhere in a body, subshells and functions included. */
export interface DeepCommand {
  readonly command: SimpleCommand;
  /** Offset in the body's logical text (for ordering). */
  readonly at: number;
  /**
   * Run by the body's own shell process, not a subshell or a pipeline
   * element (function bodies count as the shell's own: they run where called).
   */
  readonly currentShell: boolean;
}

export interface DeepWalk {
  /** In source order. */
  readonly commands: readonly DeepCommand[];
  /** Some statement (at any depth) runs in the background with `&`. */
  readonly background: boolean;
  /** Some construct could not be looked into (the walk is incomplete). */
  readonly opaque: boolean;
}

/** Every simple command of a script, looking inside subshells and function bodies too. */
export function deepWalk(script: ShellScript): DeepWalk {
  const commands: DeepCommand[] = [];
  let background = false;
  let opaque = false;
  interface Where {
    readonly source: string;
    readonly base: number;
    readonly depth: number;
    readonly current: boolean;
  }
  const walk = (statements: readonly Statement[], where: Where): void => {
    for (const statement of statements) {
      if (statement.background) background = true;
      for (const pipeline of statement.andOr.pipelines) {
        // Each element of a multi-command pipeline runs in its own subshell.
        const current = where.current && !statement.background && pipeline.commands.length === 1;
        for (const command of pipeline.commands) visit(command, { ...where, current });
      }
    }
  };
  const visit = (command: Command, where: Where): void => {
    if (command.kind === "simple") {
      commands.push({ command, at: where.base + command.start, currentShell: where.current });
      return;
    }
    switch (command.kind) {
      case "block":
      case "if":
      case "for":
      case "while":
      case "case":
        walk(command.inner, where);
        return;
      case "test":
      case "arith":
        // `[[ … ]]` and `(( … ))` run no commands (substitutions aside).
        return;
      case "subshell":
      case "function": {
        // The shell model does not descend into these: parse their body again.
        const text = where.source.slice(command.start, command.end);
        const inner = command.kind === "subshell" ? subshellInner(text) : functionBody(text);
        const parsed = inner === null || where.depth > 8 ? null : parseShell(inner.text);
        if (inner === null || parsed === null || !parsed.ok) {
          opaque = true;
          return;
        }
        walk(parsed.script.statements, {
          source: inner.text,
          base: where.base + command.start + inner.offset,
          depth: where.depth + 1,
          current: where.current && command.kind === "function",
        });
        return;
      }
      default:
        opaque = true;
    }
  };
  walk(script.statements, { source: script.source, base: 0, depth: 0, current: true });
  commands.sort((a, b) => a.at - b.at);
  return { commands, background, opaque };
}

/** `( body ) >redirects` → body. */
function subshellInner(text: string): { text: string; offset: number } | null {
  if (!text.startsWith("(")) return null;
  const close = text.lastIndexOf(")");
  if (close <= 0) return null;
  return { text: text.slice(1, close), offset: 1 };
}

/** `name() { body; }` / `function name { body; }` → `{ body; }`. */
function functionBody(text: string): { text: string; offset: number } | null {
  const head = /^(?:function\s+)?[^\s(){}]+\s*(?:\(\s*\))?\s*/.exec(text);
  if (!head || head[0].length >= text.length) return null;
  return { text: text.slice(head[0].length), offset: head[0].length };
}

export interface BodyShape {
  readonly statements: number;
  /** Some top-level and-or list uses `||`. */
  readonly hasOr: boolean;
  /** What follows the last statement: nothing, `;`, `&`, or something else. */
  readonly trailing: "" | ";" | "&" | "other";
  /** The body holds a `# comment`, which runs to the end of the logical line. */
  readonly hasComment: boolean;
}

export function bodyShape(script: ShellScript): BodyShape {
  const statements = script.statements;
  const last = statements[statements.length - 1];
  const hasComment = script.comments.length > 0;
  let rest = last ? script.source.slice(last.end) : script.source;
  for (const c of script.comments) if (c.start >= (last?.end ?? 0)) rest = rest.replace(c.text, "");
  const tail = rest.trim();
  let trailing: BodyShape["trailing"];
  if (tail === "") trailing = "";
  else if (tail === ";") trailing = ";";
  else if (tail === "&") trailing = "&";
  else trailing = "other";
  return {
    statements: statements.length,
    hasOr: statements.some((s) => s.andOr.ops.includes("||")),
    trailing,
    hasComment,
  };
}

/**
 * Shell state the body leaves behind (`cd`, `export`, assignments, `set`,
 * `trap`, functions…), which a command chained after it would inherit. None
 * of it outlives a subshell `( … )`, just as none of it outlives a RUN: `exit`
 * and `exec` end the subshell as they ended the RUN's shell, a `trap … EXIT`
 * fires when the subshell ends as it fired when the RUN ended. (`set -e` is
 * the exception, handled separately: see `mayEnableErrexit`.)
 */
export function leakedState(script: ShellScript): string[] {
  const byStart = new Map<number, SimpleCommand>();
  for (const c of currentShellCommands(script.statements)) if (c.kind === "simple") byStart.set(c.start, c);
  const what: string[] = [];
  for (const effect of stateEffects(script)) {
    const command = byStart.get(effect.start);
    if (effect.what === "dynamic command" && command && isPathCommand(command)) continue;
    if (!what.includes(effect.what)) what.push(effect.what);
  }
  for (const extra of moreLeaks(script)) if (!what.includes(extra)) what.push(extra);
  return what;
}

/** Builtins that assign the variables they are given (`read A`, `getopts ab OPT`, `mapfile -t L`). */
const ASSIGNING_BUILTINS: ReadonlySet<string> = new Set(["read", "getopts", "mapfile", "readarray"]);

/** `${VAR:=word}`, `${VAR=word}` (also `${a[i]:=x}`): the expansion assigns VAR in the current shell. */
const ASSIGNING_EXPANSION = /\$\{[A-Za-z_][A-Za-z0-9_]*(\[[^\]]*\])?:?=/;
/** `$(( v = 1 ))`, `$(( v += 2 ))`, `$(( v++ ))`: arithmetic expansion that assigns. */
const ASSIGNING_ARITHMETIC = /\$\(\([^)]*([A-Za-z_][A-Za-z0-9_]*\s*(\*\*|[-+*/%&|^]|<<|>>)?=(?!=)|\+\+|--)/;

/**
 * State changes `stateEffects` does not see: a state-changing builtin behind
 * `command` (`command cd /tmp`, `command -p export X=1`; `builtin` is
 * flagged by name already), builtins that assign the variables they name
 * (`read`, `getopts`, `mapfile`/`readarray`, `printf -v`), and expansions
 * that assign (`${VAR:=x}`, `$((v=1))`) anywhere in a command of the
 * current shell. Checked with dash and bash: chained after such a body, the
 * next command sees the variable (or the new directory); as a separate RUN
 * it does not.
 */
function moreLeaks(script: ShellScript): string[] {
  const out: string[] = [];
  const add = (w: string) => {
    if (!out.includes(w)) out.push(w);
  };
  for (const command of currentShellCommands(script.statements)) {
    const text = script.source.slice(command.start, command.end);
    if (ASSIGNING_EXPANSION.test(text)) add("${VAR:=…} assignment");
    if (ASSIGNING_ARITHMETIC.test(text)) add("$((…)) assignment");
    if (command.kind !== "simple") continue;
    let words = command.words;
    const wrapperName = words[0]?.value ?? "";
    // `command [-p] name …` and `builtin name …` run the builtin in this shell; `command -v/-V` only looks it up.
    while (words.length > 0 && (words[0]!.value === "command" || words[0]!.value === "builtin")) {
      const wrapper = words[0]!.value;
      let i = 1;
      let lookupOnly = false;
      while (wrapper === "command" && i < words.length && /^-[pvV]+$/.test(words[i]!.value ?? "")) {
        if (/[vV]/.test(words[i]!.value!)) lookupOnly = true;
        i++;
      }
      if (wrapper === "command" && words[i]?.value === "--") i++;
      words = lookupOnly ? [] : words.slice(i);
      if (wrapper === "command" && words.length > 0 && words[0]!.value === null) add("command with a dynamic name");
    }
    const name = words[0]?.value ?? null;
    if (name === null || words === command.words) {
      if (name !== null) addAssigning(name, words, add);
      continue;
    }
    if (STATE_CHANGING_BUILTINS.has(name)) add(`${wrapperName} ${name}`);
    addAssigning(name, words, add);
  }
  return out;
}

function addAssigning(name: string, words: SimpleCommand["words"], add: (w: string) => void): void {
  if (ASSIGNING_BUILTINS.has(name)) add(name);
  if (name === "printf") {
    // Options come before the format: `printf -v VAR fmt …` (bash).
    for (const w of words.slice(1)) {
      // A word only known at run time is the format, unless it may be an option (`printf $OPTS …`).
      if (w.value === null) {
        if (/^["']?(-|\$)/.test(w.source)) add("printf -v");
        break;
      }
      if (w.value === "--" || !w.value.startsWith("-")) break;
      if (/^-[^-]*v/.test(w.value)) {
        add("printf -v");
        break;
      }
    }
  }
}

/**
 * A command whose name is an expansion followed by a literal path
 * (`$CONDA_DIR/bin/conda`): a name containing `/` is always run as a file,
 * never as a builtin or function, so it can't change the shell's state.
 */
export function isPathCommand(command: SimpleCommand): boolean {
  const source = command.words[0]?.source;
  if (source === undefined || source.includes("$(") || source.includes("`")) return false;
  const literal = source
    .replace(/\$\{[^}]*\}/g, "")
    .replace(/\$[A-Za-z_][A-Za-z0-9_]*/g, "")
    .replace(/\$[@*#?$!0-9-]/g, "")
    .replace(/["']/g, "");
  return literal.includes("/");
}

/**
 * Whether a `set` command switches errexit: true, false, or null when a word
 * expands and it can't be told.
 */
export function setsErrexit(command: SimpleCommand): boolean | null {
  const words = command.words.slice(1);
  for (let i = 0; i < words.length; i++) {
    const value = words[i]!.value;
    if (value === null) return null;
    if (value === "--" || value === "-") return false;
    if (value === "-o" || value === "+o") {
      const option = words[i + 1]?.value;
      if (option === undefined) return false;
      if (option === null || option === "errexit") return option === null ? null : true;
      i++;
      continue;
    }
    if (/^[-+][A-Za-z]+$/.test(value)) {
      if (value.includes("e")) return true;
      // `set -eo pipefail`: the option name follows a cluster ending in `o`.
      if (value.endsWith("o")) i++;
      continue;
    }
    return false;
  }
  return false;
}

/**
 * Whether errexit may be switched on somewhere in the body (at any depth):
 * `set -e`, `shopt -so errexit`, or something dfopt can't see into
 * (`source`, `eval`, a variable as command name).
 */
export function mayEnableErrexit(walk: DeepWalk): string | null {
  if (walk.opaque) return "holds a construct dfopt can't look into";
  for (const { command } of walk.commands) {
    const wrapper = command.name === "builtin" || command.name === "command";
    const name = wrapper ? (command.words[1]?.value ?? null) : command.name;
    if (wrapper && name === null) return "runs a variable as a command (which may turn on `set -e`)";
    if (name === "set" && setsErrexit(wrapper ? { ...command, words: command.words.slice(1) } : command) !== false) {
      return "runs `set -e`";
    }
    if (name === "shopt" && command.words.some((w) => w.value === null || w.value === "errexit")) {
      return "changes errexit with `shopt`";
    }
    if (name === "source" || name === "." || name === "eval") return `runs \`${name}\` (which may turn on \`set -e\`)`;
    if (name === null && command.words.length > 0 && !isPathCommand(command)) {
      return "runs a variable as a command (which may turn on `set -e`)";
    }
  }
  return null;
}

/** Every top-level statement is one and-or list of plain commands and pipelines. */
export function onlySimpleCommands(script: ShellScript): boolean {
  return (
    script.statements.length === 1 &&
    script.statements.every((s) => s.andOr.pipelines.every((p) => p.commands.every((c) => c.kind === "simple")))
  );
}

/** The command's name without its directory (`/usr/sbin/service` → `service`). */
function baseName(command: SimpleCommand): string | null {
  const name = command.name;
  return name === null ? null : name.slice(name.lastIndexOf("/") + 1);
}

/** Wrappers that run their arguments as the command (`sudo service x start`). */
const PREFIXES: ReadonlySet<string> = new Set(["sudo", "env", "nice", "time", "command", "exec", "gosu", "su-exec"]);

/** The command a wrapper runs: `sudo -E service x start` → `service x start`. */
export function withoutPrefixes(command: SimpleCommand): SimpleCommand {
  let i = 0;
  const words = command.words;
  while (i < words.length && words[i]!.value !== null && PREFIXES.has(baseNameOf(words[i]!.value!))) {
    const prefix = baseNameOf(words[i]!.value!);
    i++;
    // gosu/su-exec take a user first.
    if (prefix === "gosu" || prefix === "su-exec") i++;
    while (i < words.length && words[i]!.value !== null && /^(-|[A-Za-z_][A-Za-z0-9_]*=)/.test(words[i]!.value!)) i++;
  }
  if (i === 0 || i >= words.length) return command;
  const rest = words.slice(i);
  return { ...command, words: rest, name: rest[0]!.value };
}

function baseNameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function staticWords(command: SimpleCommand): string[] {
  return command.words.slice(1).flatMap((w) => (w.value === null ? [] : [w.value]));
}

const HOST_FILES = /^\/etc\/(hosts|resolv\.conf|hostname)$/;
/** Programs that start a process which outlives them. */
const DAEMON_STARTERS: ReadonlySet<string> = new Set([
  "nohup",
  "setsid",
  "daemonize",
  "start-stop-daemon",
  "mysqld_safe",
  "dockerd",
  "supervisord",
  "Xvfb",
]);
/** Service managers, which start a service only when asked to. */
const SERVICE_MANAGERS: ReadonlySet<string> = new Set([
  "service",
  "systemctl",
  "rc-service",
  "pg_ctl",
  "pg_ctlcluster",
  "supervisorctl",
]);
const START_ACTIONS: ReadonlySet<string> = new Set(["start", "restart", "reload", "force-reload", "try-restart"]);
const STOP_ACTIONS: ReadonlySet<string> = new Set(["stop"]);

/**
 * Things only the end of a RUN undoes, so a command chained after this body
 * would run in a different world: a replaced /bin/sh (the next RUN starts the
 * new one), an edited /etc/hosts or /etc/resolv.conf (Docker provides fresh
 * ones to every RUN), a service left running (the RUN's container stops it),
 * the WORKDIR deleted under the running shell.
 */
export function carryOverHazard(walk: DeepWalk, workdir: string | null, shellProgram: string | null): string | null {
  const shells = new Set(["/bin/sh", "/usr/bin/sh"]);
  if (shellProgram !== null && shellProgram.startsWith("/")) shells.add(shellProgram);
  // Per service (or init script): was the last action a start?
  const running = new Map<string, boolean>();
  for (const { command: written } of walk.commands) {
    const command = withoutPrefixes(written);
    const name = baseName(command);
    if (name === null) continue;
    const words = staticWords(command);
    const paths = words.filter((w) => !w.startsWith("-"));
    const redirects = command.redirects.filter((r) => r.op.includes(">")).map((r) => r.target ?? "");
    const lastPath = paths[paths.length - 1];
    if (
      redirects.some((r) => shells.has(r)) ||
      ((name === "rm" || name === "unlink" || name === "mv" || name === "update-alternatives") &&
        paths.some((w) => shells.has(w))) ||
      ((name === "ln" || name === "cp" || name === "install") && lastPath !== undefined && shells.has(lastPath)) ||
      (name === "dpkg-reconfigure" && words.includes("dash"))
    ) {
      return "replaces the shell (/bin/sh) that the next RUN would start with";
    }
    if (writesHostFile(name, words, paths, redirects)) {
      return "edits /etc/hosts, /etc/resolv.conf or /etc/hostname, which Docker gives every RUN afresh";
    }
    if (DAEMON_STARTERS.has(name) || words.some((w) => /^--?daemon(ize)?$/.test(w))) {
      return "may start a service, which Docker stops at the end of the RUN but would keep running for the commands chained after it";
    }
    const isInitScript = (command.name ?? "").startsWith("/etc/init.d/");
    if (SERVICE_MANAGERS.has(name) || isInitScript) {
      const key = isInitScript
        ? command.name!
        : `${name} ${paths.filter((w) => !START_ACTIONS.has(w) && !STOP_ACTIONS.has(w)).join(" ")}`;
      if (command.words.some((w) => w.value === null)) running.set(key, true);
      else if (paths.some((w) => START_ACTIONS.has(w))) running.set(key, true);
      else if (paths.some((w) => STOP_ACTIONS.has(w))) running.set(key, false);
    }
    if (workdir !== null && (name === "rm" || name === "rmdir" || name === "mv")) {
      const dir = workdir.replace(/\/+$/, "") || "/";
      if (paths.some((w) => mayRemove(w, dir))) {
        return `removes the WORKDIR ${workdir}, which Docker recreates for the next RUN but the chained shell would still be in`;
      }
    }
  }
  if ([...running.values()].some((r) => r)) {
    return "starts a service, which Docker stops at the end of the RUN but would keep running for the commands chained after it";
  }
  return null;
}

/** A write to a file Docker mounts afresh into every RUN (reading it is fine). */
function writesHostFile(name: string, words: string[], paths: string[], redirects: string[]): boolean {
  if (redirects.some((r) => HOST_FILES.test(r))) return true;
  if (!paths.some((w) => HOST_FILES.test(w))) return false;
  switch (name) {
    case "cp":
    case "mv":
    case "ln":
    case "install":
      return HOST_FILES.test(paths[paths.length - 1]!) || name === "mv";
    case "sed":
    case "perl":
      return words.some((w) => /^(-[a-zA-Z]*i|--in-place)/.test(w));
    case "cat":
    case "grep":
    case "head":
    case "tail":
    case "less":
    case "diff":
      return false;
    default:
      // tee, rm, chattr, truncate, echo… and anything else dfopt can't tell.
      return true;
  }
}

/** Whether `rm <word>` may remove directory `dir` itself (not just its contents). */
function mayRemove(word: string, dir: string): boolean {
  if (!word.startsWith("/")) return false;
  const cut = word.search(/[*?[]/);
  if (cut < 0) return isSameOrAncestor(word.replace(/\/+$/, "") || "/", dir);
  const prefix = word.slice(0, cut);
  // `/x/*` matches the children of /x: it removes `dir` only if dir is below /x.
  return dir.startsWith(prefix) && dir.length > prefix.length;
}

/** Commands other dfopt passes read and rewrite (download, unpack, cache paths). */
const TOOL_COMMANDS: ReadonlySet<string> = new Set([
  "apt-cache",
  "apt-mark",
  "aptitude",
  "dpkg",
  "curl",
  "wget",
  "tar",
  "unzip",
  "gem",
  "npx",
  "node",
  "corepack",
  "conda",
  "mamba",
  "micromamba",
]);

/**
 * Whether wrapping the body in a subshell would hide commands that other
 * passes look for: the shell model does not look inside `( … )`, so a
 * package-manager call in there would escape cache mounts, hygiene and the
 * like, and the result would depend on which pass ran first.
 */
export function hidesFromOtherPasses(walk: DeepWalk): string | null {
  for (const { command: written } of walk.commands) {
    const command = withoutPrefixes(written);
    const name = baseName(command);
    if (name === null) continue;
    if (packageManagerCall(command) !== null || /^python[0-9.]*$/.test(name)) return name;
    if (TOOL_COMMANDS.has(name)) return name;
    if (
      name === "rm" &&
      staticWords(command).some((w) => /^\/(var|root|usr\/local\/share|home)\/|\.cache|\.npm/.test(w))
    ) {
      return name;
    }
  }
  return null;
}

/** The static part of a path before any glob character, without trailing slashes. */
export function stripGlob(path: string): string {
  const cut = path.search(/[*?[]/);
  const prefix = cut < 0 ? path : path.slice(0, cut);
  return prefix.length > 1 ? prefix.replace(/\/+$/, "") || "/" : prefix;
}

/** `a` is `b` or one of its parent directories (both absolute). */
export function isSameOrAncestor(a: string, b: string): boolean {
  if (!a.startsWith("/")) return false;
  if (a === "/" || a === b) return true;
  return b.startsWith(`${a}/`);
}

/** Per walk: a chain asks about every earlier RUN for each RUN it adds (n² questions, n walks). */
const memoByWalk = <T>(compute: (walk: DeepWalk) => T) => memoByObject(compute);

/**
 * Package managers that upgrade themselves (`pip install -U pip`,
 * `npm i -g npm`, `gem update --system`) and the command names that then
 * point to a new file: the shell remembers where it found a command (its
 * hash table), so in one shell a later `pip` may still run the old copy — the
 * classic "cannot import name main" after a pip upgrade — where a fresh RUN
 * would look it up again.
 */
export const selfUpgradedTools: (walk: DeepWalk) => ReadonlySet<string> = memoByWalk(selfUpgradedToolsOf);

function selfUpgradedToolsOf(walk: DeepWalk): Set<string> {
  const tools = new Set<string>();
  for (const { command } of walk.commands) {
    const call = packageManagerCall(command);
    if (!call) continue;
    const args = call.args.filter((a): a is string => a !== null);
    const packages = args.filter((a) => !a.startsWith("-")).slice(1);
    const names = packages.map((p) => p.replace(/^(@?[^@=<>~!\s[]+).*$/, "$1").toLowerCase());
    switch (call.manager) {
      case "pip":
        if (call.subcommand === "install" && names.includes("pip")) {
          const invoked = baseName(command) ?? "pip";
          for (const t of ["pip", "pip2", "pip3", invoked, invoked.replace(/\.\d+$/, "")]) tools.add(t);
        }
        break;
      case "npm":
      case "pnpm":
      case "yarn":
        if (args.some((a) => a === "-g" || a === "--global" || a === "global")) {
          for (const n of names) if (n !== "global" && n !== "add") tools.add(n);
        }
        break;
      case "gem":
        if (call.subcommand === "update" && args.includes("--system")) tools.add("gem");
        if (call.subcommand === "install" && names.includes("bundler"))
          for (const t of ["bundle", "bundler"]) tools.add(t);
        break;
      default:
        break;
    }
  }
  return tools;
}

/** The command names (without directory) a body runs; pip3.11 also counts as pip3. */
const allCommandNames = memoByWalk((walk) => commandNamesOf(walk, false));
const currentShellCommandNames = memoByWalk((walk) => commandNamesOf(walk, true));

export function commandNames(walk: DeepWalk, onlyCurrentShell = false): ReadonlySet<string> {
  return onlyCurrentShell ? currentShellCommandNames(walk) : allCommandNames(walk);
}

function commandNamesOf(walk: DeepWalk, onlyCurrentShell: boolean): Set<string> {
  const names = new Set<string>();
  for (const { command, currentShell } of walk.commands) {
    if (onlyCurrentShell && !currentShell) continue;
    const name = baseName(command);
    if (name === null) continue;
    names.add(name);
    const pip = /^(pip\d?)(\.\d+)?$/.exec(name);
    if (pip) names.add(pip[1]!);
  }
  return names;
}

/** apt package-list events in source order, for the "install after the lists were removed" hazard. */
export type ListsEvent = "update" | "remove-lists" | "needs-lists";

export const aptListsEvents: (walk: DeepWalk) => readonly ListsEvent[] = memoByWalk(aptListsEventsOf);

function aptListsEventsOf(walk: DeepWalk): ListsEvent[] {
  const events: ListsEvent[] = [];
  for (const { command } of walk.commands) {
    const call = packageManagerCall(command);
    if (call && (call.manager === "apt-get" || call.manager === "apt")) {
      if (call.subcommand === "update") events.push("update");
      else if (call.subcommand !== null && APT_LIST_READERS.has(call.subcommand)) events.push("needs-lists");
      continue;
    }
    if (baseName(command) === "rm") {
      const paths = staticWords(command).filter((w) => !w.startsWith("-"));
      if (paths.some((p) => isSameOrAncestor(stripGlob(p), "/var/lib/apt/lists") && p !== "/")) {
        events.push("remove-lists");
      }
    }
  }
  return events;
}

const UPDATE_SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  "apt-get": ["update"],
  apt: ["update"],
  apk: ["update"],
  yum: ["makecache", "check-update"],
  dnf: ["makecache", "check-update"],
};

/** The body only refreshes package indexes (`apt-get update`, `apk update`…). */
export function isIndexUpdateOnly(walk: DeepWalk): boolean {
  return (
    walk.commands.length > 0 &&
    walk.commands.every(({ command }) => {
      const call = packageManagerCall(command);
      return (
        call !== null && call.subcommand !== null && (UPDATE_SUBCOMMANDS[call.manager] ?? []).includes(call.subcommand)
      );
    })
  );
}

/** The body installs packages with a system package manager. */
export function installsSystemPackages(walk: DeepWalk): boolean {
  return walk.commands.some(({ command }) => {
    const call = packageManagerCall(command);
    if (call === null) return false;
    if (call.manager === "apk") return call.subcommand === "add";
    return call.manager in UPDATE_SUBCOMMANDS && call.subcommand === "install";
  });
}

const CLEANUP_SUBCOMMANDS: Readonly<Record<string, readonly string[]>> = {
  "apt-get": ["clean", "autoclean", "autoremove", "purge", "remove"],
  apt: ["clean", "autoclean", "autoremove", "purge", "remove"],
  apk: ["del"],
  yum: ["clean", "remove", "autoremove"],
  dnf: ["clean", "remove", "autoremove"],
  microdnf: ["clean", "remove"],
  pip: ["cache", "uninstall"],
  npm: ["cache", "prune"],
  yarn: ["cache"],
  pnpm: ["store"],
  gem: ["cleanup"],
  composer: ["clear-cache", "clearcache"],
};

/** The body only removes things (`rm -rf`, `apt-get clean`, `apk del`, `pip cache purge`…). */
export function isCleanupOnly(walk: DeepWalk): boolean {
  return (
    walk.commands.length > 0 &&
    walk.commands.every(({ command }) => {
      const name = baseName(command);
      if (name === "rm" || name === "rmdir") return true;
      if (name === "conda" && command.words[1]?.value === "clean") return true;
      if (name === "find" && command.words.some((w) => w.value === "-delete" || w.value === "rm")) return true;
      const call = packageManagerCall(command);
      return (
        call !== null && call.subcommand !== null && (CLEANUP_SUBCOMMANDS[call.manager] ?? []).includes(call.subcommand)
      );
    })
  );
}

/**
 * Shell builtins and reserved words: an exec-form RUN naming one runs the
 * program file of that name, while shell form would run the builtin (e.g.
 * dash's `echo` interprets `\n`, /bin/echo doesn't), so it isn't rewritten.
 */
const SHELL_BUILTINS: ReadonlySet<string> = new Set(
  (
    ". : [ [[ ]] { } ! alias bg break builtin caller cd command compgen complete continue declare dirs disown " +
    "echo enable eval exec exit export false fc fg getopts hash help history jobs kill let local logout mapfile " +
    "popd printf pushd pwd read readarray readonly return set shift shopt source suspend test time times trap " +
    "true type typeset ulimit umask unalias unset wait if then else elif fi case esac for select while until do " +
    "done in function coproc"
  ).split(" "),
);

/** Characters that mean nothing special to the shell in an unquoted word. */
const PLAIN_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Exec-form arguments as an equivalent shell command line, or null when some
 * word would need quoting (or the program is a builtin) and the rewrite isn't
 * obviously the same command.
 */
export function execAsShell(args: readonly string[]): string | null {
  if (args.length === 0) return null;
  const program = args[0]!;
  if (!/^[A-Za-z0-9_./-]+$/.test(program) || SHELL_BUILTINS.has(program)) return null;
  if (!args.every((a) => PLAIN_WORD.test(a))) return null;
  return args.join(" ");
}

/**
 * What a SHELL instruction's options mean for chaining: whether errexit is on
 * for the whole body, or why the shell can't be reasoned about (a login or
 * interactive shell reads profile files at the start of every RUN, which one
 * chained shell would read only once).
 */
export function shellOptions(shell: readonly string[] | null): { errexit: boolean } | { refuse: string } {
  if (shell === null) return { errexit: false };
  const program = (shell[0] ?? "").slice((shell[0] ?? "").lastIndexOf("/") + 1);
  if (!/^(sh|bash|dash|ash)$/.test(program)) {
    return { refuse: `SHELL ${JSON.stringify(shell)} is not a shell dfopt can reason about` };
  }
  let errexit = false;
  const options = shell.slice(1);
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    if (option === "-o" || option === "+o") {
      const name = options[i + 1] ?? "";
      if (name === "errexit") errexit = option === "-o";
      else if (!["pipefail", "nounset", "xtrace", "posix", "noglob", "verbose"].includes(name)) {
        return { refuse: `SHELL option ${option} ${name} is not one dfopt knows` };
      }
      i++;
      continue;
    }
    if (option === "--norc" || option === "--noprofile") continue;
    const cluster = /^-([euxvfco]+)$/.exec(option);
    if (cluster) {
      if (cluster[1]!.includes("e")) errexit = true;
      if (cluster[1]!.endsWith("o")) {
        const name = options[i + 1] ?? "";
        if (name === "errexit") errexit = true;
        else if (!["pipefail", "nounset", "xtrace", "posix", "noglob", "verbose"].includes(name)) {
          return { refuse: `SHELL option -o ${name} is not one dfopt knows` };
        }
        i++;
      }
      continue;
    }
    return {
      refuse: `SHELL option ${option} may make the shell read profile files at the start of each RUN`,
    };
  }
  return { errexit };
}
