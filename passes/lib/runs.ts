/**
 * Walking RUN instructions with what a pass needs next to each: its parsed
 * shell script, its stage context, and edit helpers that map shell offsets
 * back to the file. Edits made through these helpers touch only the bytes
 * that must change.
 */
import type { InstructionNode, ParsedDockerfile } from "../../src/dockerfile.js";
import { fileRangeOf } from "../../src/logical.js";
import type { ShellScript, SimpleCommand, Span } from "../../src/shell.js";
import { memoByFile } from "../../src/memo.js";
import { allSimpleCommands } from "../../src/shell-facts.js";
import { contextAt, isPosixShell, type InstructionContext } from "../../src/stage-facts.js";
import type { Edit } from "../../src/types.js";
import { packageManagerCall, type PackageManagerCall } from "./package-managers.js";

export interface RunInfo {
  readonly node: InstructionNode;
  readonly script: ShellScript;
  readonly context: InstructionContext;
}

export type RunRefusal = { readonly node: InstructionNode; readonly reason: string };

/**
 * Every shell-form RUN whose body parses under a POSIX shell. RUNs that
 * can't be analysed come back as refusals so passes can report them.
 */
export const analysableRuns = memoByFile(analyseRuns);

function analyseRuns(file: ParsedDockerfile): {
  readonly runs: readonly RunInfo[];
  readonly refused: readonly RunRefusal[];
} {
  const runs: RunInfo[] = [];
  const refused: RunRefusal[] = [];
  for (const node of file.instructions) {
    if (node.keyword !== "RUN") continue;
    if (node.form !== "shell" || !node.shell) continue;
    if (!node.shell.parse.ok) {
      refused.push({ node, reason: `RUN body does not parse as shell (${node.shell.parse.error})` });
      continue;
    }
    const context = contextAt(file, node);
    if (!isPosixShell(context)) {
      refused.push({ node, reason: `RUN runs under SHELL ${JSON.stringify(context.shell)}, not a POSIX shell` });
      continue;
    }
    runs.push({ node, script: node.shell.parse.script, context });
  }
  return { runs, refused };
}

/** Package-manager calls anywhere in a RUN body. */
export function packageManagerCalls(script: ShellScript): PackageManagerCall[] {
  const calls: PackageManagerCall[] = [];
  for (const command of allSimpleCommands(script.statements)) {
    const call = packageManagerCall(command);
    if (call) calls.push(call);
  }
  return calls;
}

/** File range of a span of the RUN's shell body. */
export function fileSpan(node: InstructionNode, span: Span): { start: number; end: number } {
  return fileRangeOf(node.shell!.logical, span.start, span.end);
}

/** Replace a span of the shell body (a word, a command…) with new text. */
export function replaceSpan(node: InstructionNode, span: Span, newText: string): Edit {
  const { start, end } = fileSpan(node, span);
  return { start, end, newText };
}

/**
 * Remove one word of a command together with the blanks before it:
 * `pip install --no-cache-dir -r x` loses ` --no-cache-dir`. Removing from
 * the end of the previous word keeps line continuations intact (a word alone
 * on the last line takes its `\` line break with it) and lets adjacent words
 * be removed by separate, non-overlapping edits. Comment lines inside the
 * continuation are never removed.
 */
export function removeWord(file: ParsedDockerfile, node: InstructionNode, command: SimpleCommand, index: number): Edit {
  const word = command.words[index]!;
  const { start, end } = fileSpan(node, word);
  const previous = index > 0 ? fileSpan(node, command.words[index - 1]!) : null;
  if (previous && !/[\r\n][ \t]*#/.test(file.text.slice(previous.end, start))) {
    return { start: previous.end, end, newText: "" };
  }
  return deleteWithBlanks(file, node, start, end);
}

/**
 * Deletes [start, end) of a RUN with the blanks before it, or, at the start
 * of a continued line, with the blanks after it (the indentation stays).
 */
export function deleteWithBlanks(file: ParsedDockerfile, node: InstructionNode, start: number, end: number): Edit {
  let from = start;
  while (from > node.start && (file.text[from - 1] === " " || file.text[from - 1] === "\t")) from--;
  if (from > 0 && (file.text[from - 1] === "\n" || file.text[from - 1] === "\r")) {
    let to = end;
    while (to < node.end && (file.text[to] === " " || file.text[to] === "\t")) to++;
    // The instruction's last line, emptied: the line continuation above it
    // would run over the blank line into the next instruction (Docker skips
    // blank lines in a continuation). Take the continuation with it.
    if (to >= node.end) {
      const continuation = continuationEnding(file, from);
      if (continuation !== null) return { start: continuation, end: node.end, newText: "" };
    }
    return { start, end: to, newText: "" };
  }
  return { start: from, end, newText: "" };
}

/**
 * Where `<blanks><escape><blanks><line break>` ending at `lineStart` begins,
 * when the line before holds more than a comment or blanks; null otherwise.
 */
function continuationEnding(file: ParsedDockerfile, lineStart: number): number | null {
  const line = file.lines.lineAt(lineStart);
  if (line === 0) return null;
  const previousStart = file.lines.lineStart(line - 1);
  const previous = file.text.slice(previousStart, lineStart).replace(/\r?\n$/, "");
  const esc = file.escapeChar === "\\" ? "\\\\" : "`";
  const m = new RegExp(`[ \\t]*${esc}[ \\t]*$`).exec(previous);
  if (!m) return null;
  const content = previous.slice(0, m.index).trim();
  if (content === "" || content.startsWith("#")) return null;
  return previousStart + m.index;
}

/** Insert text right after a word of a command (e.g. a flag after `install`). */
export function insertAfterWord(node: InstructionNode, command: SimpleCommand, index: number, text: string): Edit {
  const { end } = fileSpan(node, command.words[index]!);
  return { start: end, end, newText: text };
}

/**
 * Insert a RUN flag (e.g. `--mount=type=cache,target=/root/.cache/pip`)
 * right after the existing flags, or after `RUN` when there are none.
 */
export function insertRunFlag(file: ParsedDockerfile, node: InstructionNode, flagText: string): Edit {
  const last = node.flags[node.flags.length - 1];
  const at = last ? last.end : node.start + "RUN".length;
  return { start: at, end: at, newText: ` ${flagText}` };
}

/** File range of a word, widened to its whole line when it stands alone on a continued line. */
export function removeWordOrLine(
  file: ParsedDockerfile,
  node: InstructionNode,
  span: { start: number; end: number },
): Edit {
  const { start, end } = fileSpan(node, span);
  const line = file.lines.lineAt(start);
  const lineStart = file.lines.lineStart(line);
  const lineEnd = file.lines.lineEnd(line);
  const before = file.text.slice(lineStart, start);
  const after = file.text.slice(end, lineEnd);
  const escRe = file.escapeChar === "\\" ? "\\\\" : "`";
  if (
    line > file.lines.lineAt(node.start) &&
    /^[ \t]*$/.test(before) &&
    new RegExp(`^[ \\t]*${escRe}[ \\t]*$`).test(after)
  ) {
    // `    gcc \` on its own line: drop the line and its line break.
    const next = file.lines.lineStart(line + 1);
    return { start: lineStart, end: next, newText: "" };
  }
  return deleteWithBlanks(file, node, start, end);
}
