/**
 * Dockerfile front end: dockerfile-ast for instructions, flags and ranges,
 * converted to offsets, grouped into stages, with every shell-form RUN body
 * parsed by the shell front end. Passes read only this model.
 */
import { DockerfileParser, type Instruction } from "dockerfile-ast";
import "./dockerfile-ast-memo.js";
import { logicalText, type LogicalText } from "./logical.js";
import { parseShell, type ShellParse } from "./shell.js";
import { LineIndex, detectEol } from "./text.js";
import { rememberBounded } from "./memo.js";

export const KNOWN_INSTRUCTIONS: ReadonlySet<string> = new Set([
  "FROM",
  "RUN",
  "CMD",
  "LABEL",
  "MAINTAINER",
  "EXPOSE",
  "ENV",
  "ADD",
  "COPY",
  "ENTRYPOINT",
  "VOLUME",
  "USER",
  "WORKDIR",
  "ARG",
  "ONBUILD",
  "STOPSIGNAL",
  "HEALTHCHECK",
  "SHELL",
]);

export interface Flag {
  readonly name: string;
  readonly value: string | null;
  /** Range of the whole `--name=value` text. */
  readonly start: number;
  readonly end: number;
  /** `key=value` options of the flag (e.g. `--mount=type=cache,target=/x`). */
  readonly options: ReadonlyMap<string, string | null>;
}

export interface Argument {
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export type BodyForm = "shell" | "exec" | "heredoc" | "none";

export interface ShellBody {
  readonly logical: LogicalText;
  readonly parse: ShellParse;
}

export interface InstructionNode {
  /** Upper-case keyword (`RUN`, `COPY`…). */
  readonly keyword: string;
  /** Position in `ParsedDockerfile.instructions`. */
  readonly index: number;
  /** From the keyword to the end of its last line (line break excluded). */
  readonly start: number;
  readonly end: number;
  /** 1-based line of the keyword. */
  readonly line: number;
  readonly flags: readonly Flag[];
  /** Arguments after the flags, as dockerfile-ast splits them. */
  readonly args: readonly Argument[];
  /** Where the text after the flags starts (== end when there is none). */
  readonly bodyStart: number;
  readonly form: BodyForm;
  /** Exec-form JSON strings (unquoted values), for RUN/CMD/ENTRYPOINT/COPY/ADD. */
  readonly execArgs: readonly string[] | null;
  /** Parsed shell for shell-form RUN (and CMD/ENTRYPOINT/HEALTHCHECK) bodies. */
  readonly shell: ShellBody | null;
  /** Stage index; -1 for ARGs before the first FROM. */
  readonly stage: number;
  readonly ast: Instruction;
}

export interface Stage {
  readonly index: number;
  /** `AS name`, lower-cased as Docker treats it. */
  readonly name: string | null;
  /** The FROM image reference as written (`python:3.10-alpine`, `$BASE`, `builder`). */
  readonly image: string;
  readonly from: InstructionNode;
  readonly instructions: readonly InstructionNode[];
}

export interface CommentLine {
  readonly start: number;
  readonly end: number;
  readonly line: number;
  readonly text: string;
}

export interface ParsedDockerfile {
  /** The file without its BOM; every offset refers to this text. */
  readonly text: string;
  readonly hasBom: boolean;
  readonly eol: "\n" | "\r\n";
  readonly escapeChar: string;
  readonly lines: LineIndex;
  readonly directives: ReadonlyMap<string, string>;
  readonly instructions: readonly InstructionNode[];
  readonly stages: readonly Stage[];
  readonly comments: readonly CommentLine[];
}

/** A Dockerfile dfopt refuses to touch, with where and what to do. */
export class DockerfileError extends Error {
  constructor(
    message: string,
    readonly line: number | null,
  ) {
    super(message);
    this.name = "DockerfileError";
  }
}

const BOM = "\uFEFF";

export function parseDockerfile(input: string): ParsedDockerfile {
  const hasBom = input.startsWith(BOM);
  const text = hasBom ? input.slice(1) : input;
  if (text.includes("\u0000")) {
    throw new DockerfileError("this is a binary file, not a Dockerfile; pass the Dockerfile's path instead", null);
  }
  if (text.trim() === "") {
    throw new DockerfileError("the file is empty; a Dockerfile needs at least a FROM instruction", null);
  }
  const lines = new LineIndex(text);
  const ast = DockerfileParser.parse(text);
  const directives = new Map<string, string>();
  for (const d of ast.getDirectives()) directives.set(d.getName().toLowerCase(), d.getValue());
  const escape = directives.get("escape");
  if (escape !== undefined && escape !== "\\" && escape !== "`") {
    const line = ast.getDirectives().find((d) => d.getName().toLowerCase() === "escape");
    throw new DockerfileError(
      `invalid escape directive "${escape}": Docker accepts only \\ or \`; fix the "# escape=" line`,
      line ? line.getRange().start.line + 1 : 1,
    );
  }
  const escapeChar = ast.getEscapeCharacter();

  const instructions: InstructionNode[] = [];
  const stages: {
    index: number;
    name: string | null;
    image: string;
    from: InstructionNode;
    instructions: InstructionNode[];
  }[] = [];
  for (const instruction of ast.getInstructions()) {
    const keyword = instruction.getKeyword().toUpperCase();
    const line = instruction.getRange().start.line + 1;
    if (!KNOWN_INSTRUCTIONS.has(keyword)) {
      throw new DockerfileError(
        `unknown instruction "${instruction.getKeyword()}"${suggest(keyword)}; fix or remove it (a line continuation may be missing on the line before)`,
        line,
      );
    }
    if (stages.length === 0 && keyword !== "FROM" && keyword !== "ARG") {
      throw new DockerfileError(`${keyword} comes before the first FROM; every build stage starts with FROM`, line);
    }
    const node = buildNode(
      instruction,
      keyword,
      instructions.length,
      stages.length - (keyword === "FROM" ? 0 : 1),
      text,
      lines,
      escapeChar,
    );
    instructions.push(node);
    if (keyword === "FROM") {
      const args = node.args;
      const asIndex = args.findIndex((a) => a.value.toUpperCase() === "AS");
      stages.push({
        index: stages.length,
        name: asIndex >= 0 ? (args[asIndex + 1]?.value.toLowerCase() ?? null) : null,
        image: args[0]?.value ?? "",
        from: node,
        instructions: [node],
      });
    } else if (stages.length > 0) {
      stages[stages.length - 1]!.instructions.push(node);
    }
  }
  if (instructions.length === 0) {
    throw new DockerfileError(
      "the file has no instructions (only comments or blank lines); a Dockerfile needs at least a FROM",
      null,
    );
  }
  if (stages.length === 0) {
    throw new DockerfileError("no FROM instruction; a Dockerfile must start its build stage with FROM", null);
  }
  const comments: CommentLine[] = ast.getComments().map((c) => {
    const range = c.getRange();
    const start = lines.offsetAt(range.start);
    return { start, end: lines.offsetAt(range.end), line: range.start.line + 1, text: c.getContent() };
  });
  return { text, hasBom, eol: detectEol(text), escapeChar, lines, directives, instructions, stages, comments };
}

function buildNode(
  instruction: Instruction,
  keyword: string,
  index: number,
  stage: number,
  text: string,
  lines: LineIndex,
  escapeChar: string,
): InstructionNode {
  const range = instruction.getRange();
  const start = lines.offsetAt(range.start);
  const end = lines.offsetAt(range.end);
  const flags = readFlags(instruction, lines);
  const afterKeyword = lines.offsetAt(instruction.getInstructionRange().end);
  const afterFlags = flags.length > 0 ? flags[flags.length - 1]!.end : afterKeyword;
  const bodyStart = skipBlanks(text, afterFlags, end, escapeChar);
  // A heredoc starts with `<<`: dockerfile-ast's search for one is skipped where there is none.
  const heredocs =
    (keyword === "RUN" || keyword === "COPY" || keyword === "ADD") && text.slice(start, end).includes("<<")
      ? (
          instruction as unknown as { getHeredocs(): { getDelimiterRange(): unknown; getName(): string }[] }
        ).getHeredocs()
      : [];
  for (const h of heredocs) {
    if (h.getDelimiterRange() === null) {
      throw new DockerfileError(
        `unterminated heredoc <<${h.getName()}: add a line "${h.getName()}" that ends it`,
        range.start.line + 1,
      );
    }
  }
  const bracketed = text[bodyStart] === "[" && EXEC_FORM.has(keyword);
  const execArgs = bracketed ? readExecArgs(instruction, text, lines) : null;
  const form: BodyForm =
    heredocs.length > 0 ? "heredoc" : execArgs !== null ? "exec" : bodyStart < end ? "shell" : "none";
  // dockerfile-ast computes arguments (and shell bodies are parsed) on first
  // use only: most passes look at a few instruction kinds.
  let args: Argument[] | undefined;
  let shell: ShellBody | null | undefined;
  return {
    keyword,
    index,
    start,
    end,
    line: range.start.line + 1,
    flags,
    get args() {
      args ??= cachedArguments(instruction, text.slice(start, end), start, lines);
      return args;
    },
    bodyStart,
    form,
    execArgs,
    get shell() {
      if (shell === undefined) {
        shell = null;
        if (form === "shell" && SHELL_FORM.has(keyword)) {
          const logical = logicalText(text, bodyStart, end, escapeChar);
          const swallowed = swallowedInstruction(text, start, end, lines);
          shell = {
            logical,
            parse: swallowed ? { ok: false, error: swallowed } : parseShell(logical.text),
          };
        }
      }
      return shell;
    },
    stage,
    ast: instruction,
  };
}

/**
 * dockerfile-ast re-splits arguments on every call, and the engine re-parses
 * the file every round: remember the split per instruction text (offsets
 * relative to the instruction), bounded.
 */
const argumentCache = new Map<string, { value: string; start: number; end: number }[]>();

function cachedArguments(instruction: Instruction, source: string, start: number, lines: LineIndex): Argument[] {
  let relative = argumentCache.get(source);
  if (!relative) {
    relative = instruction.getArguments().map((a) => {
      const r = a.getRange();
      return { value: a.getValue(), start: lines.offsetAt(r.start) - start, end: lines.offsetAt(r.end) - start };
    });
    rememberBounded(argumentCache, source, relative, 4096);
  }
  return relative.map((a) => ({ value: a.value, start: a.start + start, end: a.end + start }));
}

/**
 * A line continuation runs over blank and comment lines, so in
 *
 *     RUN make \
 *
 *     # settings
 *     ENV A=1
 *
 * Docker reads `ENV A=1` as words of the RUN, not as an instruction. Almost
 * always a mistake in the Dockerfile: passes leave such a body alone (it
 * counts as not parsing) and the reason says where.
 */
function swallowedInstruction(text: string, start: number, end: number, lines: LineIndex): string | null {
  const first = lines.lineAt(start);
  const last = lines.lineAt(end);
  let previousBlank = false;
  for (let line = first + 1; line <= last; line++) {
    const content = text.slice(lines.lineStart(line), Math.min(end, lines.lineStart(line + 1))).trim();
    const keyword = /^([A-Z]+)\s/.exec(content)?.[1];
    if (previousBlank && keyword && KNOWN_INSTRUCTIONS.has(keyword)) {
      return `line ${line + 1}: "${content.slice(0, 40)}" is part of this instruction, not an instruction of its own (the line continuation above it runs over blank or comment lines); fix the Dockerfile first`;
    }
    previousBlank = content === "" || content.startsWith("#");
  }
  return null;
}

const EXEC_FORM = new Set(["RUN", "CMD", "ENTRYPOINT", "COPY", "ADD", "SHELL", "VOLUME", "HEALTHCHECK"]);
const SHELL_FORM = new Set(["RUN", "CMD", "ENTRYPOINT"]);

/** Skip blanks, line continuations and the comment lines Docker drops inside them. */
function skipBlanks(text: string, from: number, end: number, escapeChar: string): number {
  let i = from;
  while (i < end) {
    const c = text[i];
    if (c === " " || c === "\t") {
      i++;
    } else if (c === escapeChar && /^[ \t]*(\r?\n|$)/.test(text.slice(i + 1, Math.min(end, i + 200)))) {
      i = text.indexOf("\n", i);
      if (i < 0 || i >= end) return end;
      i++;
      // Comment lines and blank lines right after a continuation are dropped by Docker.
      while (i < end) {
        const lineEnd = text.indexOf("\n", i);
        const line = text.slice(i, lineEnd < 0 ? end : Math.min(lineEnd, end)).trim();
        if (line !== "" && !line.startsWith("#")) break;
        if (lineEnd < 0 || lineEnd >= end) return end;
        i = lineEnd + 1;
      }
    } else {
      break;
    }
  }
  return i;
}

function readFlags(instruction: Instruction, lines: LineIndex): Flag[] {
  if (!("getFlags" in instruction)) return [];
  const flags = (instruction as unknown as { getFlags(): import("dockerfile-ast").Flag[] }).getFlags();
  return flags.map((f) => {
    const r = f.getRange();
    const options = new Map<string, string | null>();
    for (const o of f.getOptions()) options.set(o.getName(), o.getValue());
    return {
      name: f.getName(),
      value: f.getValue(),
      start: lines.offsetAt(r.start),
      end: lines.offsetAt(r.end),
      options,
    };
  });
}

function readExecArgs(instruction: Instruction, text: string, lines: LineIndex): string[] | null {
  if (!("getJSONStrings" in instruction)) return null;
  const json = instruction as unknown as {
    getOpeningBracket(): unknown;
    getClosingBracket(): unknown;
    getJSONStrings(): {
      getJSONValue(): string;
      getRange(): { start: { line: number; character: number }; end: { line: number; character: number } };
    }[];
  };
  if (json.getOpeningBracket() === null || json.getClosingBracket() === null) return null;
  // getJSONValue() drops whitespace inside the string ("apt-get update" →
  // "apt-getupdate"); decode the JSON string literal from the file instead.
  return json.getJSONStrings().map((s) => {
    const r = s.getRange();
    try {
      return JSON.parse(text.slice(lines.offsetAt(r.start), lines.offsetAt(r.end))) as string;
    } catch {
      return s.getJSONValue();
    }
  });
}

function suggest(keyword: string): string {
  let best: string | null = null;
  let bestDistance = 3;
  for (const known of KNOWN_INSTRUCTIONS) {
    const d = editDistance(keyword, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best ? ` (did you mean ${best}?)` : "";
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = current;
    }
  }
  return row[b.length]!;
}

/** The flag named `name` on an instruction, if any (first one wins, as in Docker). */
export function flagOf(node: InstructionNode, name: string): Flag | undefined {
  return node.flags.find((f) => f.name === name);
}

/** Parsed shell script of a RUN, or null when it is not a parseable shell form. */
export function shellScriptOf(node: InstructionNode) {
  return node.shell?.parse.ok ? node.shell.parse.script : null;
}
