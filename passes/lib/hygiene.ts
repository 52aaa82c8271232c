/**
 * Helpers shared by the hygiene passes (apt, apk, pip, yum, npm, gem,
 * archive cleanup…): where a RUN's commands sit in its and-or chains, how to
 * append `&& cleanup` after one of them in the file's own continuation style,
 * which later RUNs inherit a stage's filesystem, and what a stage's base
 * image is. Everything here reads the parsed model only.
 */
import { memoByObject } from "../../src/memo.js";
import type { InstructionNode, ParsedDockerfile, Stage } from "../../src/dockerfile.js";
import type { AndOr, Command, Pipeline, ShellScript, SimpleCommand, Statement } from "../../src/shell.js";
import type { Edit, PassOptions } from "../../src/types.js";
import { chainStart, chainsWithNext, chainsWithPrevious } from "./chain-plan.js";
import {
  packageManagerCall,
  subcommandIndex,
  type PackageManager,
  type PackageManagerCall,
} from "./package-managers.js";
import { fileSpan, removeWordOrLine } from "./runs.js";

export { removeWordOrLine };

/* ------------------------------------------------------------------ */
/* Mounts                                                              */
/* ------------------------------------------------------------------ */

/** Targets of the RUN's `--mount=type=cache` and `--mount=type=tmpfs` flags. */
export function cacheMountTargets(node: InstructionNode): string[] {
  const out: string[] = [];
  for (const flag of node.flags) {
    if (flag.name !== "mount") continue;
    const type = flag.options.get("type") ?? "bind";
    if (type !== "cache" && type !== "tmpfs") continue;
    const target = flag.options.get("target") ?? flag.options.get("dst") ?? flag.options.get("destination");
    if (target) out.push(normalizeDir(target));
  }
  return out;
}

/** Targets of every `--mount` flag of the RUN, whatever its type. */
export function allMountTargets(node: InstructionNode): string[] {
  const out: string[] = [];
  for (const flag of node.flags) {
    if (flag.name !== "mount") continue;
    const target = flag.options.get("target") ?? flag.options.get("dst") ?? flag.options.get("destination");
    if (target) out.push(normalizeDir(target));
  }
  return out;
}

function normalizeDir(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, "") : path;
}

/** True when `path` is `dir` or lies inside it. */
export function isUnder(path: string, dir: string): boolean {
  const d = normalizeDir(dir);
  const p = normalizeDir(path);
  return p === d || p.startsWith(d === "/" ? "/" : `${d}/`);
}

/** True when a mount target and a directory overlap (one holds the other). */
export function overlaps(targets: readonly string[], dir: string): boolean {
  return targets.some((t) => isUnder(dir, t) || isUnder(t, dir));
}

/* ------------------------------------------------------------------ */
/* Where a command sits in the script                                  */
/* ------------------------------------------------------------------ */

export interface ChainSlot {
  readonly statement: Statement;
  readonly andOr: AndOr;
  /** Index of the pipeline holding the command in `andOr.pipelines`. */
  readonly index: number;
  readonly pipeline: Pipeline;
  /** Nesting: statements of the top level have depth 0. */
  readonly depth: number;
  /** Inside a `for`/`while` body, which may run several times. */
  readonly inLoop: boolean;
}

/**
 * The and-or slot of a simple command when it runs in the RUN's own shell
 * (top level, or inside `{ }`/if/for/while bodies, never in a subshell).
 */
export function slotOf(script: ShellScript, command: SimpleCommand): ChainSlot | null {
  return slotsOf(script).get(command) ?? null;
}

/**
 * Every simple command's slot, indexed once per script: passes ask for the
 * slots of many commands of one RUN (adjacent installs, later readers), and
 * walking the script per question made a RUN of n commands cost n² walks.
 */
const slotsOf = memoByObject((script: ShellScript): ReadonlyMap<SimpleCommand, ChainSlot> => {
  const slots = new Map<SimpleCommand, ChainSlot>();
  const visit = (statements: readonly Statement[], depth: number, inLoop: boolean): void => {
    for (const statement of statements) {
      const andOr = statement.andOr;
      for (let i = 0; i < andOr.pipelines.length; i++) {
        const pipeline = andOr.pipelines[i]!;
        for (const c of pipeline.commands) {
          if (c.kind === "simple") slots.set(c, { statement, andOr, index: i, pipeline, depth, inLoop });
          else visit(c.inner, depth + 1, inLoop || c.kind === "for" || c.kind === "while");
        }
      }
    }
  };
  visit(script.statements, 0, false);
  return slots;
});

/**
 * True when `X && new` may follow the pipeline holding `command` without
 * changing when anything else runs: the pipeline runs in the RUN's own shell
 * (top level, `{ }`, if or case bodies; not a loop, which would run `new`
 * again before the next round), is not backgrounded, and runs only after
 * `&&` (or first), so `new` runs exactly when that pipeline ran and
 * succeeded.
 */
export function canAppendAfter(script: ShellScript, command: SimpleCommand): ChainSlot | null {
  const slot = slotOf(script, command);
  if (!slot || slot.inLoop || slot.statement.background) return null;
  if (slot.index > 0 && slot.andOr.ops[slot.index - 1] !== "&&") return null;
  if (slot.pipeline.negated) return null;
  for (const c of slot.pipeline.commands) {
    if (c.redirects.some((r) => r.op.startsWith("<<"))) return null;
  }
  return slot;
}

/** True when `new && X` may run right before the command (same guard as X). */
export function canPrependBefore(script: ShellScript, command: SimpleCommand): ChainSlot | null {
  const slot = slotOf(script, command);
  if (!slot || slot.depth !== 0 || slot.statement.background) return null;
  if (slot.pipeline.commands.length !== 1 || slot.pipeline.negated) return null;
  if (slot.index > 0 && slot.andOr.ops[slot.index - 1] !== "&&") return null;
  // `X || y` would become `new && X || y`: y would also run when `new` fails.
  if (slot.index < slot.andOr.ops.length && slot.andOr.ops[slot.index] !== "&&") return null;
  return slot;
}

/** Simple commands of the script in source order (subshells and pipelines included). */
export function commandsInOrder(script: ShellScript): SimpleCommand[] {
  const out: SimpleCommand[] = [];
  const visitCommand = (c: Command): void => {
    if (c.kind === "simple") out.push(c);
    else visit(c.inner);
  };
  const visit = (statements: readonly Statement[]): void => {
    for (const s of statements) for (const p of s.andOr.pipelines) for (const c of p.commands) visitCommand(c);
  };
  visit(script.statements);
  return out.sort((a, b) => a.start - b.start);
}

/**
 * Words a compound command hides from the model (`(cd x && make)` keeps no
 * inner statements): the raw source of subshells, tests and the like, so a
 * pass can refuse when a name it looks for shows up there.
 */
export function opaqueSources(script: ShellScript): string[] {
  const out: string[] = [];
  const visit = (statements: readonly Statement[]): void => {
    for (const s of statements) {
      for (const p of s.andOr.pipelines) {
        for (const c of p.commands) {
          if (c.kind === "simple") continue;
          if (c.inner.length === 0) out.push(script.source.slice(c.start, c.end));
          else visit(c.inner);
        }
      }
    }
  };
  visit(script.statements);
  return out;
}

/* ------------------------------------------------------------------ */
/* Editing                                                             */
/* ------------------------------------------------------------------ */

export interface ContinuationStyle {
  readonly multiline: boolean;
  /** `&&` at the start of continued lines (true) or at their end (false). */
  readonly leadingOps: boolean;
  readonly indent: string;
}

/** How a RUN lays out its continued lines, so inserted commands match. */
export function continuationStyle(file: ParsedDockerfile, node: InstructionNode, near?: number): ContinuationStyle {
  const first = file.lines.lineAt(node.start);
  const last = file.lines.lineAt(node.end);
  if (first === last) return { multiline: false, leadingOps: true, indent: "" };
  let leading = 0;
  let trailing = 0;
  let indent: string | null = null;
  const esc = file.escapeChar === "\\" ? "\\\\" : "`";
  const trailingOp = new RegExp(`(&&|\\|\\||;)\\s*${esc}\\s*$`);
  for (let line = first; line <= last; line++) {
    const text = file.lines.lineText(line);
    const trimmed = text.trimStart();
    if (line > first && (trimmed === "" || trimmed.startsWith("#"))) continue;
    if (line > first && /^(&&|\|\||;)/.test(trimmed)) leading++;
    if (trailingOp.test(text)) trailing++;
    if (line > first && indent === null) indent = text.slice(0, text.length - trimmed.length);
  }
  if (near !== undefined) {
    const line = file.lines.lineAt(near);
    if (line > first) {
      const text = file.lines.lineText(line);
      const trimmed = text.trimStart();
      indent = text.slice(0, text.length - trimmed.length);
    }
  }
  return { multiline: true, leadingOps: leading >= trailing, indent: indent ?? "    " };
}

/**
 * Insert `&& <text>` after the pipeline holding `command` (see
 * `canAppendAfter`), on a new continued line when the RUN already spans
 * several lines, in the file's own style.
 */
export function appendAfter(file: ParsedDockerfile, node: InstructionNode, slot: ChainSlot, text: string): Edit {
  const { end } = fileSpan(node, slot.pipeline);
  const style = continuationStyle(file, node, fileSpan(node, slot.pipeline).start);
  if (!style.multiline) return { start: end, end, newText: ` && ${text}` };
  const nl = `${file.escapeChar}${file.eol}${style.indent}`;
  const newText = style.leadingOps ? ` ${nl}&& ${text}` : ` && ${nl}${text}`;
  return { start: end, end, newText };
}

/** The whole instruction's lines (for deleting an instruction). */
export function instructionLines(file: ParsedDockerfile, node: InstructionNode): { start: number; end: number } {
  const start = file.lines.lineStart(file.lines.lineAt(node.start));
  const lastLine = file.lines.lineAt(node.end);
  const end = file.lines.lineStart(lastLine + 1);
  return { start, end: end > node.end ? end : file.text.length };
}

/** Insert a whole new line (an instruction) right after an instruction. */
export function insertLineAfter(file: ParsedDockerfile, node: InstructionNode, line: string): Edit {
  return { start: node.end, end: node.end, newText: `${file.eol}${line}` };
}

/** Insert a whole new line (an instruction) right before an instruction. */
export function insertLineBefore(file: ParsedDockerfile, node: InstructionNode, line: string): Edit {
  const start = file.lines.lineStart(file.lines.lineAt(node.start));
  return { start, end: start, newText: `${line}${file.eol}` };
}

/* ------------------------------------------------------------------ */
/* Flags                                                               */
/* ------------------------------------------------------------------ */

/**
 * True when `words` hold a short option `letter` (alone or in a cluster
 * such as `-qy`) or one of the long spellings.
 */
export function hasOption(words: readonly (string | null)[], short: string | null, long: readonly string[]): boolean {
  for (const w of words) {
    if (w === null) continue;
    if (w === "--") return false;
    if (long.some((l) => w === l || w.startsWith(`${l}=`))) return true;
    if (short && /^-[A-Za-z0-9]+$/.test(w) && w.includes(short)) return true;
  }
  return false;
}

/** True when any word of the command expands at run time (`$OPTS`…). */
export function hasDynamicWord(command: SimpleCommand, from = 0): boolean {
  return command.words.slice(from).some((w) => w.value === null);
}

/* ------------------------------------------------------------------ */
/* Stages                                                              */
/* ------------------------------------------------------------------ */

/** Stages that build on `stage` (FROM <its name or index>), transitively. */
export function descendantStages(file: ParsedDockerfile, stage: Stage): Stage[] {
  const out: Stage[] = [];
  const frontier = [stage];
  while (frontier.length > 0) {
    const s = frontier.pop()!;
    for (const other of file.stages) {
      if (other.index <= s.index || out.includes(other)) continue;
      const image = other.image.toLowerCase();
      if ((s.name !== null && image === s.name) || image === String(s.index)) {
        out.push(other);
        frontier.push(other);
      }
    }
  }
  return out;
}

/** Instructions that run on top of `node`'s filesystem: the rest of its stage and every stage built on it. */
export function laterInstructions(file: ParsedDockerfile, node: InstructionNode): InstructionNode[] {
  const stage = file.stages[node.stage];
  if (!stage) return [];
  const out = stage.instructions.filter((i) => i.index > node.index);
  for (const d of descendantStages(file, stage)) out.push(...d.instructions.filter((i) => i.keyword !== "FROM"));
  return out;
}

/** The stage `stage` builds on when its FROM names an earlier stage. */
export function parentStage(file: ParsedDockerfile, stage: Stage): Stage | undefined {
  const image = stage.image.toLowerCase();
  return file.stages.find((s) => s.index < stage.index && (s.name === image || String(s.index) === image));
}

/** Global ARG defaults (ARGs before the first FROM). */
function globalArgs(file: ParsedDockerfile): Map<string, string> {
  const out = new Map<string, string>();
  for (const i of file.instructions) {
    if (i.stage !== -1 || i.keyword !== "ARG") continue;
    for (const a of i.args) {
      const eq = a.value.indexOf("=");
      if (eq > 0) out.set(a.value.slice(0, eq), a.value.slice(eq + 1).replace(/^"(.*)"$/, "$1"));
    }
  }
  return out;
}

/**
 * The external image a stage finally builds on, following FROM <stage>
 * chains and global ARG defaults; null when it can't be known statically.
 */
export function baseImageOf(file: ParsedDockerfile, stage: Stage): string | null {
  let s: Stage | undefined = stage;
  for (let guard = 0; s && guard < file.stages.length + 1; guard++) {
    const parent = parentStage(file, s);
    if (!parent) break;
    s = parent;
  }
  if (!s) return null;
  let image = s.image;
  if (image.includes("$")) {
    const args = globalArgs(file);
    image = image.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}?/g, (_m, name: string, _d, def?: string) => {
      return args.get(name) ?? def ?? "$";
    });
    if (image.includes("$")) return null;
  }
  return image.toLowerCase();
}

export interface ImageRef {
  /** Repository without registry and `library/` (`python`, `ubuntu`, `bitnami/python`). */
  readonly repo: string;
  readonly tag: string | null;
}

export function parseImage(ref: string): ImageRef {
  let rest = ref.split("@")[0]!;
  let tag: string | null = null;
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const parts = rest.split("/");
  if (parts.length > 1 && (parts[0]!.includes(".") || parts[0]!.includes(":") || parts[0] === "localhost")) {
    parts.shift();
  }
  if (parts[0] === "library") parts.shift();
  return { repo: parts.join("/"), tag };
}

/* ------------------------------------------------------------------ */
/* Script facts                                                        */
/* ------------------------------------------------------------------ */

const SHELLS = new Set(["sh", "bash", "dash", "ash", "zsh", "ksh"]);

/**
 * A command that runs a script whose content the Dockerfile doesn't show
 * (`./install.sh`, `bash setup.sh`, `curl … | sh`): it may do anything.
 */
export function runsOpaqueScript(command: SimpleCommand, pipeline: Pipeline | null): boolean {
  const name = command.name;
  if (name === null) return command.words.length > 0;
  if (name.includes("/") && !name.startsWith("/usr/bin/") && !name.startsWith("/bin/")) return true;
  if (/\.(sh|bash)$/.test(name)) return true;
  const base = name.slice(name.lastIndexOf("/") + 1);
  if (SHELLS.has(base)) {
    const args = command.words.slice(1).map((w) => w.value);
    if (args.length === 0 && pipeline && pipeline.commands.length > 1) return true;
    if (args.some((a) => a === null || a === "-" || a === "-s")) return true;
    const script = args.find((a) => a !== null && !a.startsWith("-"));
    if (script !== undefined) return true;
  }
  return false;
}

/** Every shell script of the later RUN instructions (parsed ones only). */
export function scriptsOf(nodes: readonly InstructionNode[]): { node: InstructionNode; script: ShellScript | null }[] {
  return nodes
    .filter((n) => n.keyword === "RUN")
    .map((n) => ({ node: n, script: n.shell?.parse.ok ? n.shell.parse.script : null }));
}

/** Literal text of a node after its keyword (for cheap "is X mentioned later" checks). */
export function bodyText(file: ParsedDockerfile, node: InstructionNode): string {
  return file.text.slice(node.bodyStart, node.end);
}

/**
 * Stages whose layers end up in the image `docker build` produces by
 * default: the last stage and the stages it is built FROM. Cleanup in a
 * builder stage saves nothing anyone ships.
 */
export function shippedStages(file: ParsedDockerfile): Set<number> {
  const out = new Set<number>();
  let s: Stage | undefined = file.stages[file.stages.length - 1];
  while (s && !out.has(s.index)) {
    out.add(s.index);
    s = parentStage(file, s);
  }
  return out;
}

/** The words of the command before the package manager itself (`sudo `, `DEBIAN_FRONTEND=… `) as written. */
export function prefixSource(script: ShellScript, command: SimpleCommand, argsFrom: number): string {
  const manager = command.words[argsFrom - 1];
  if (!manager) return "";
  return script.source.slice(command.start, manager.start);
}

/**
 * ENV/ARG names set before `node` in its stage and in the stages it is
 * built FROM (Docker carries ENV into child stages).
 */
export function envBefore(file: ParsedDockerfile, node: InstructionNode): Map<string, string> {
  const chain: Stage[] = [];
  let s: Stage | undefined = file.stages[node.stage];
  while (s && !chain.includes(s)) {
    chain.unshift(s);
    s = parentStage(file, s);
  }
  const env = new Map<string, string>();
  for (const stage of chain) {
    for (const i of stage.instructions) {
      if (stage.index === node.stage && i.index >= node.index) break;
      if (i.keyword !== "ENV" && !(i.keyword === "ARG" && stage.index === node.stage)) continue;
      for (const [name, value] of envPairsOf(i)) env.set(name, value);
    }
  }
  return env;
}

function envPairsOf(node: InstructionNode): [string, string][] {
  const values = node.args.map((a) => a.value);
  if (values.length === 0) return [];
  if (node.keyword === "ENV" && !values[0]!.includes("=")) return [[values[0]!, values.slice(1).join(" ")]];
  return values.map((v) => {
    const eq = v.indexOf("=");
    return eq < 0 ? [v, ""] : [v.slice(0, eq), v.slice(eq + 1)];
  });
}

/** Stages from the first ancestor to `stage` itself (FROM <stage> chains). */
export function stageChain(file: ParsedDockerfile, stage: Stage): Stage[] {
  const chain: Stage[] = [];
  let s: Stage | undefined = stage;
  while (s && !chain.includes(s)) {
    chain.unshift(s);
    s = parentStage(file, s);
  }
  return chain;
}

/**
 * Insert a whole new line above an instruction and above the comment lines
 * that directly introduce it, so a comment stays next to what it describes.
 */
export function insertLineAbove(file: ParsedDockerfile, node: InstructionNode, line: string): Edit {
  let l = file.lines.lineAt(node.start);
  while (l > 0) {
    const prev = file.lines.lineText(l - 1).trim();
    if (!prev.startsWith("#")) break;
    // Parser directives (`# syntax=`, `# escape=`) at the top of the file stay first.
    if (file.comments.every((c) => file.lines.lineAt(c.start) !== l - 1)) break;
    l--;
  }
  const start = file.lines.lineStart(l);
  return { start, end: start, newText: `${line}${file.eol}` };
}

/**
 * Delete an instruction's lines; when blank lines surround it, one of them
 * goes too so the file doesn't grow a double gap.
 */
export function deleteInstruction(file: ParsedDockerfile, node: InstructionNode): Edit {
  const { start, end } = instructionLines(file, node);
  const first = file.lines.lineAt(node.start);
  const last = file.lines.lineAt(node.end);
  const blankBefore = first > 0 && file.lines.lineText(first - 1).trim() === "";
  const blankAfter =
    last + 1 < file.lines.lineCount && file.lines.lineText(last + 1).trim() === "" && end < file.text.length;
  if (blankBefore && blankAfter) return { start, end: file.lines.lineStart(last + 2), newText: "" };
  return { start, end, newText: "" };
}

/** Exec-form (JSON) arguments of an instruction, or null for shell form. */
export function execArgsOf(_file: ParsedDockerfile, node: InstructionNode): readonly string[] | null {
  return node.execArgs;
}

/**
 * How the chain-runs pass will treat a RUN, when it is enabled: a RUN it
 * joins to its previous one gets repairs that depend on the RUN above (an
 * added `apt-get update`) from the chain instead; a RUN it joins to the next
 * one gets its end-of-RUN cleanup at the end of the chain. Deferring keeps
 * the result the same whichever pass goes first.
 */
export function chainedNeighbours(
  file: ParsedDockerfile,
  node: InstructionNode,
  options: PassOptions,
): { previous: boolean; next: boolean } {
  if (!options.enabledPasses.has("chain-runs")) return { previous: false, next: false };
  return { previous: chainsWithPrevious(file, node), next: chainsWithNext(file, node) };
}

/** Where an instruction inserted before `node` must go so it doesn't split a chain-runs chain. */
export function beforeChain(file: ParsedDockerfile, node: InstructionNode, options: PassOptions): InstructionNode {
  return options.enabledPasses.has("chain-runs") ? chainStart(file, node) : node;
}

/** A package-manager call with its subcommand found (`apk add`, `yum install`, `apt-get -o X=y install`). */
export interface SubcommandCall {
  readonly call: PackageManagerCall;
  readonly command: SimpleCommand;
  /** Index of the subcommand word in `command.words`. */
  readonly sub: number;
  readonly subcommand: string;
}

/**
 * The command as a call of one of `managers` with its subcommand (see
 * `subcommandIndex`); null when it is another command or has no static
 * subcommand.
 */
export function subcommandCall(command: SimpleCommand, managers: ReadonlySet<PackageManager>): SubcommandCall | null {
  const call = packageManagerCall(command);
  if (!call || !managers.has(call.manager)) return null;
  const sub = subcommandIndex(
    call.manager,
    command.words.map((w) => w.value),
    call.argsFrom,
  );
  return sub < 0 ? null : { call, command, sub, subcommand: command.words[sub]!.value! };
}

/** Every such call in the script, in execution order. */
export function subcommandCalls(script: ShellScript, managers: ReadonlySet<PackageManager>): SubcommandCall[] {
  const out: SubcommandCall[] = [];
  for (const command of commandsInOrder(script)) {
    const call = subcommandCall(command, managers);
    if (call) out.push(call);
  }
  return out;
}
