/**
 * Applying text edits computed on one version of a file, and mapping offsets
 * of the result back to that version (so reports name the original lines).
 */
import type { Change, Edit } from "./types.js";

export function sortedEdits(edits: readonly Edit[]): Edit[] {
  return [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
}

/**
 * Two deletions that overlap delete their union (removing the adjacent words
 * `a b` one by one gives `a ` and ` b`, which share the blank); merged here so
 * passes can remove words independently. Any other overlap stays as it is
 * (and is a bug the engine reports).
 */
export function mergeOverlappingDeletions(edits: readonly Edit[], text: string, escapeChar: string): Edit[] {
  const out: Edit[] = [];
  for (const edit of sortedEdits(edits)) {
    const last = out[out.length - 1];
    if (last && last.newText === "" && edit.newText === "" && edit.start < last.end) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, edit.end), newText: "" };
    } else {
      out.push(edit);
    }
  }
  return withEmptiedLinesRemoved(out, text, escapeChar);
}

/**
 * Deletions that together remove everything a continued line held would
 * leave a line of blanks and the escape character: the line goes instead.
 * Only lines touched by deletions alone, all within the line, and that had
 * more than blanks before.
 */
function withEmptiedLinesRemoved(edits: Edit[], text: string, escapeChar: string): Edit[] {
  const byLine = new Map<number, Edit[]>();
  const lineOf = (offset: number) => text.lastIndexOf("\n", offset - 1) + 1;
  for (const edit of edits) {
    const start = lineOf(edit.start);
    if (lineOf(edit.end) !== start) continue; // spans a line break: not a one-line removal
    byLine.set(start, [...(byLine.get(start) ?? []), edit]);
  }
  const replaced = new Map<Edit, Edit | null>();
  for (const [lineStart, onLine] of byLine) {
    if (onLine.some((e) => e.newText !== "")) continue;
    const newline = text.indexOf("\n", lineStart);
    if (newline < 0) continue;
    const line = text.slice(lineStart, newline).replace(/\r$/, "");
    let left = "";
    let cursor = lineStart;
    for (const e of onLine) {
      left += text.slice(cursor, e.start);
      cursor = e.end;
    }
    left += text.slice(cursor, lineStart + line.length);
    const emptied = (t: string) => {
      const trimmed = t.trimEnd();
      return trimmed.endsWith(escapeChar) && /^[ \t]*$/.test(trimmed.slice(0, -escapeChar.length));
    };
    if (!emptied(left) || emptied(line)) continue;
    const whole = { start: lineStart, end: newline + 1, newText: "" };
    // Other edits must not touch the line (an edit ending at its start is fine).
    if (edits.some((e) => !onLine.includes(e) && e.end > whole.start && e.start < whole.end)) continue;
    onLine.forEach((e, i) => replaced.set(e, i === 0 ? whole : null));
  }
  if (replaced.size === 0) return edits;
  return edits.flatMap((e) => (replaced.has(e) ? (replaced.get(e) ? [replaced.get(e)!] : []) : [e]));
}

/** Applies non-overlapping edits; throws if two overlap (a bug in the caller). */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = sortedEdits(edits);
  let out = "";
  let cursor = 0;
  for (const edit of sorted) {
    if (edit.start < cursor) throw new Error(`overlapping edits at offset ${edit.start}`);
    out += text.slice(cursor, edit.start) + edit.newText;
    cursor = edit.end;
  }
  return out + text.slice(cursor);
}

/**
 * Two changes conflict when any of their edits touch the same text. Two
 * insertions at one offset conflict too: their order would be arbitrary.
 */
export function changesConflict(a: Change, b: Change): boolean {
  for (const x of a.edits) {
    for (const y of b.edits) {
      if (x.start < y.end && y.start < x.end) return true;
      if (x.start === y.start) return true;
      // An insertion at the boundary of a replacement is ambiguous as well.
      if (
        (x.start === x.end && (x.start === y.start || x.start === y.end)) ||
        (y.start === y.end && (y.start === x.start || y.start === x.end))
      ) {
        return true;
      }
    }
  }
  return false;
}

/** Maps offsets in the edited text back to offsets in the text before the edits. */
export class OffsetMapper {
  private readonly entries: { newStart: number; newEnd: number; oldStart: number; oldEnd: number }[] = [];

  constructor(edits: readonly Edit[]) {
    let shift = 0;
    for (const edit of sortedEdits(edits)) {
      const newStart = edit.start + shift;
      this.entries.push({ newStart, newEnd: newStart + edit.newText.length, oldStart: edit.start, oldEnd: edit.end });
      shift += edit.newText.length - (edit.end - edit.start);
    }
  }

  toOld(offset: number): number {
    let result = offset;
    for (const e of this.entries) {
      if (offset < e.newStart) break;
      if (offset < e.newEnd) return e.oldStart;
      result = offset - e.newEnd + e.oldEnd;
    }
    return result;
  }
}
