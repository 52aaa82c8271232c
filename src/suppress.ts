/**
 * Suppression comments, like linters' inline disables:
 *   # dfopt ignore-file              no change anywhere in this file
 *   # dfopt ignore                   no change to the next instruction
 *   # dfopt ignore=cache-mounts,…    these passes leave the next instruction alone
 *   # hadolint ignore=DL3042,…       honoured for passes that fix those rules
 * The comment must sit on the line(s) directly above the instruction, as
 * hadolint requires.
 */
import type { ParsedDockerfile } from "./dockerfile.js";
import type { Change, Pass } from "./types.js";

export interface Suppressions {
  readonly wholeFile: boolean;
  /** Instruction ranges each pass must not touch ("*" = every pass). */
  readonly ranges: ReadonlyMap<string, readonly { start: number; end: number }[]>;
}

const FILE_IGNORE = /^#\s*dfopt\s+ignore-file\b/i;
const DFOPT_IGNORE = /^#\s*dfopt\s+ignore(?:\s*=\s*([\w\s,-]+))?\s*$/i;
const HADOLINT_IGNORE = /^#\s*hadolint\s+ignore\s*=\s*([\w\s,]+)/i;

const NONE: Suppressions = { wholeFile: false, ranges: new Map() };
/** Every suppression comment names its tool: most files can't have one, and are not read line by line. */
const MAY_SUPPRESS = /dfopt|hadolint/i;

export function findSuppressions(file: ParsedDockerfile, passes: readonly Pass[]): Suppressions {
  if (!MAY_SUPPRESS.test(file.text)) return NONE;
  const ranges = new Map<string, { start: number; end: number }[]>();
  let wholeFile = false;
  const byRule = new Map<string, string[]>();
  for (const pass of passes) {
    for (const rule of pass.meta.hadolintRules ?? []) byRule.set(rule, [...(byRule.get(rule) ?? []), pass.meta.id]);
  }
  const add = (pass: string, range: { start: number; end: number }) =>
    ranges.set(pass, [...(ranges.get(pass) ?? []), range]);
  for (const node of file.instructions) {
    // Walk the comment lines directly above the instruction.
    for (let line = node.line - 2; line >= 0; line--) {
      const text = file.lines.lineText(line).trim();
      if (!text.startsWith("#")) break;
      const range = { start: node.start, end: node.end };
      const dfopt = DFOPT_IGNORE.exec(text);
      if (dfopt) {
        const ids = dfopt[1]
          ? dfopt[1]
              .split(",")
              .map((s) => s.trim())
              .filter(Boolean)
          : ["*"];
        for (const id of ids) add(id, range);
      }
      const hadolint = HADOLINT_IGNORE.exec(text);
      if (hadolint) {
        for (const rule of hadolint[1]!.split(",").map((s) => s.trim().toUpperCase())) {
          for (const id of byRule.get(rule) ?? []) add(id, range);
        }
      }
    }
  }
  for (let line = 0; line < file.lines.lineCount && !wholeFile; line++) {
    if (FILE_IGNORE.test(file.lines.lineText(line).trim())) wholeFile = true;
  }
  return { wholeFile, ranges };
}

export function isSuppressed(change: Change, suppressions: Suppressions): boolean {
  if (suppressions.wholeFile) return true;
  const ranges = [...(suppressions.ranges.get(change.pass) ?? []), ...(suppressions.ranges.get("*") ?? [])];
  return change.edits.some((e) =>
    ranges.some(
      (r) =>
        e.start <= r.end &&
        e.end >= r.start &&
        !(e.start === e.end && e.start === r.start && isLineStartInsertion(e.newText)),
    ),
  );
}

/** An insertion of whole lines right before an instruction doesn't touch it. */
function isLineStartInsertion(text: string): boolean {
  return text.endsWith("\n");
}
