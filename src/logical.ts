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
  let out = "";
  const offsets: number[] = [];
  let i = start;
  let atLineStart = false;
  while (i < end) {
    if (atLineStart) {
      // After a continuation, Docker skips whole comment lines and empty lines.
      const lineEnd = findLineEnd(file, i, end);
      const content = file.slice(i, lineEnd).trim();
      if (content === "" || content.startsWith("#")) {
        if (lineEnd >= end) break;
        i = skipLineBreak(file, lineEnd);
        continue;
      }
      atLineStart = false;
    }
    const c = file[i]!;
    if (c === escapeChar) {
      const afterSpaces = skipSpaces(file, i + 1, end);
      if (afterSpaces >= end || file[afterSpaces] === "\n" || file[afterSpaces] === "\r") {
        if (afterSpaces >= end) break;
        i = skipLineBreak(file, afterSpaces);
        atLineStart = true;
        continue;
      }
    }
    out += c;
    offsets.push(i);
    i++;
  }
  offsets.push(i <= end ? Math.min(i, end) : end);
  return { text: out, fileOffsets: Int32Array.from(offsets) };
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
