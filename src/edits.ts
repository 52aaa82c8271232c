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
  const merged = new Set<number>();
  for (const edit of sortedEdits(edits)) {
    const last = out[out.length - 1];
    if (last && last.newText === "" && edit.newText === "" && edit.start < last.end) {
      out[out.length - 1] = { start: last.start, end: Math.max(last.end, edit.end), newText: "" };
      merged.add(out.length - 1);
    } else {
      out.push(edit);
    }
  }
  // Words removed one by one that were all a continued line held would leave
  // a line of blanks and the escape character: remove the line instead.
  for (const i of merged) out[i] = wholeLineIfEmptied(out[i]!, text, escapeChar);
  return out;
}

function wholeLineIfEmptied(edit: Edit, text: string, escapeChar: string): Edit {
  const lineStart = text.lastIndexOf("\n", edit.start - 1) + 1;
  let lineEnd = text.indexOf("\n", edit.end);
  if (lineEnd < 0) return edit;
  lineEnd++;
  const left = text.slice(lineStart, edit.start) + text.slice(edit.end, lineEnd);
  const blanks = /^[ \t]*$/;
  const trimmed = left.replace(/\r?\n$/, "").trimEnd();
  if (!trimmed.endsWith(escapeChar) || !blanks.test(trimmed.slice(0, -escapeChar.length))) return edit;
  return { start: lineStart, end: lineEnd, newText: "" };
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
