/**
 * The text Docker hands to the shell for a shell-form instruction, with a map
 * back to the file. Docker (not the shell) removes an escape character that
 * ends a line (optionally followed by spaces) together with the line break,
 * and drops comment lines and empty lines inside a continued instruction
 * (moby/buildkit frontend/dockerfile/parser). Parsing the raw file text as
 * shell would get both wrong: a `# comment` line would swallow the next line
 * and a continuation inside single quotes would survive.
 */
export interface LogicalText {
  /** What the shell sees. */
  readonly text: string;
  /** `fileOffsets[i]` is the file offset of `text[i]`; one extra entry for the end. */
  readonly fileOffsets: Int32Array;
}

export function logicalText(file: string, start: number, end: number, escapeChar: string): LogicalText {
  // Copies runs of kept characters in slices (not one by one): bodies are
  // mostly long runs between continuations.
  const offsets = new Int32Array(Math.max(0, end - start) + 1);
  const pieces: string[] = [];
  let n = 0;
  let runStart = start;
  const keepRun = (upTo: number) => {
    if (upTo <= runStart) return;
    pieces.push(file.slice(runStart, upTo));
    for (let k = runStart; k < upTo; k++) offsets[n++] = k;
  };
  let i = start;
  let atLineStart = false;
  while (i < end) {
    if (atLineStart) {
      // After a continuation, Docker skips whole comment lines and empty lines.
      const lineEnd = findLineEnd(file, i, end);
      const content = file.slice(i, lineEnd).trim();
      if (content === "" || content.startsWith("#")) {
        if (lineEnd >= end) {
          runStart = i;
          break;
        }
        runStart = i = skipLineBreak(file, lineEnd);
        continue;
      }
      atLineStart = false;
    }
    if (file[i] === escapeChar) {
      const afterSpaces = skipSpaces(file, i + 1, end);
      if (afterSpaces >= end || file[afterSpaces] === "\n" || file[afterSpaces] === "\r") {
        keepRun(i);
        if (afterSpaces >= end) {
          runStart = end;
          break;
        }
        runStart = i = skipLineBreak(file, afterSpaces);
        atLineStart = true;
        continue;
      }
    }
    i++;
  }
  keepRun(Math.min(i, end));
  offsets[n] = i <= end ? Math.min(i, end) : end;
  return { text: pieces.join(""), fileOffsets: offsets.slice(0, n + 1) };
}

/** File range covering logical characters [from, to). */
export function fileRangeOf(logical: LogicalText, from: number, to: number): { start: number; end: number } {
  const start = logical.fileOffsets[from]!;
  if (to <= from) return { start, end: start };
  return { start, end: logical.fileOffsets[to - 1]! + 1 };
}

function findLineEnd(text: string, from: number, limit: number): number {
  let i = from;
  while (i < limit && text[i] !== "\n" && text[i] !== "\r") i++;
  return i;
}

function skipLineBreak(text: string, at: number): number {
  if (text[at] === "\r" && text[at + 1] === "\n") return at + 2;
  return at + 1;
}

function skipSpaces(text: string, from: number, limit: number): number {
  let i = from;
  while (i < limit && (text[i] === " " || text[i] === "\t")) i++;
  return i;
}
