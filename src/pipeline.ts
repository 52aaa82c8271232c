/**
 * The engine: runs the passes over a file, applies the changes that don't
 * conflict, re-parses, and repeats until a round changes nothing (ESLint's
 * fix loop). It is the only place that turns changes into text.
 */
import { parseDockerfile, type ParsedDockerfile } from "./dockerfile.js";
import { applyEdits, changesConflict, mergeOverlappingDeletions, OffsetMapper, sortedEdits } from "./edits.js";
import { memoByFile, runPass } from "./memo.js";
import { findSuppressions, isSuppressed } from "./suppress.js";
import type { Change, ContextFileWrite, Edit, Pass, PassOptions, Safety } from "./types.js";

export const MAX_ROUNDS = 10;

export interface ReportedChange {
  readonly pass: string;
  readonly reason: string;
  readonly safety: Safety;
  readonly unsafeBecause?: string;
  /** 1-based lines in the ORIGINAL file that the change touches. */
  readonly line: number;
  readonly endLine: number;
}

export type NotAppliedWhy = "unsafe" | "broke-parse";

export interface NotAppliedChange extends ReportedChange {
  readonly why: NotAppliedWhy;
}

export interface ReportedSkip {
  readonly pass: string;
  /** 1-based line in the OUTPUT file. */
  readonly line: number;
  readonly reason: string;
}

export interface PassFailure {
  readonly pass: string;
  readonly message: string;
}

export interface OptimizeResult {
  readonly input: string;
  readonly output: string;
  readonly applied: readonly ReportedChange[];
  readonly notApplied: readonly NotAppliedChange[];
  readonly skips: readonly ReportedSkip[];
  readonly passFailures: readonly PassFailure[];
  readonly rounds: number;
  /** False only if MAX_ROUNDS passed without reaching a fixed point. */
  readonly converged: boolean;
  /** Files proposed in the build context (e.g. .dockerignore), one per path. */
  readonly contextFiles: readonly (ContextFileWrite & { readonly pass: string })[];
}

export interface OptimizeOptions {
  readonly passes: readonly Pass[];
  readonly passOptions: PassOptions;
  /** Apply changes marked unsafe too. */
  readonly unsafe: boolean;
}

/** Throws DockerfileError when the input itself can't be handled. */
export function optimize(input: string, options: OptimizeOptions): OptimizeResult {
  let parsed = parseDockerfile(input);
  const bom = parsed.hasBom ? "\uFEFF" : "";
  // One mapper per applied round, newest last: output offsets -> original offsets.
  const mappers: OffsetMapper[] = [];
  const applied: ReportedChange[] = [];
  const notApplied = new Map<string, NotAppliedChange>();
  const passFailures = new Map<string, PassFailure>();
  let skips: ReportedSkip[] = [];
  let rounds = 0;
  let converged = false;

  const original = parseLines(input, bom);
  while (rounds < MAX_ROUNDS) {
    rounds++;
    const proposed = runPasses(parsed, options, passFailures);
    skips = proposed.skips;
    const toOriginal = (offset: number) => mappers.reduceRight((o, m) => m.toOld(o), offset);
    const report = (change: Change): ReportedChange => describe(change, (o) => original(toOriginal(o)));

    const candidates: Change[] = [];
    for (const change of proposed.changes) {
      if (change.safety === "unsafe" && !options.unsafe) {
        const r = report(change);
        notApplied.set(`${r.pass}:${r.line}:${r.reason}`, { ...r, why: "unsafe" });
      } else {
        candidates.push(change);
      }
    }
    const selected: Change[] = [];
    const selectedSpans: Span[] = [];
    for (const change of candidates) {
      // Changes whose spans don't even touch can't conflict: only those are compared edit by edit.
      const span = spanOf(change);
      if (selected.some((s, i) => spansTouch(selectedSpans[i]!, span) && changesConflict(s, change))) continue;
      selected.push(change);
      selectedSpans.push(span);
    }
    if (selected.length === 0) {
      converged = true;
      break;
    }
    const next = applyValidated(parsed, selected, (bad) => {
      const r = report(bad);
      notApplied.set(`${r.pass}:${r.line}:${r.reason}`, { ...r, why: "broke-parse" });
    });
    if (next === null) {
      converged = true;
      break;
    }
    for (const change of next.applied) applied.push(report(change));
    mappers.push(new OffsetMapper(next.applied.flatMap((c) => c.edits)));
    parsed = next.parsed;
  }
  return {
    contextFiles: proposeContextFiles(parsed, options, passFailures),
    input,
    output: bom + parsed.text,
    applied: applied.sort((a, b) => a.line - b.line),
    notApplied: [...notApplied.values()].sort((a, b) => a.line - b.line),
    skips,
    passFailures: [...passFailures.values()],
    rounds,
    converged,
  };
}

/** Context files from the passes that propose them, on the settled Dockerfile; first proposal per path wins. */
function proposeContextFiles(
  parsed: ParsedDockerfile,
  options: OptimizeOptions,
  failures: Map<string, PassFailure>,
): (ContextFileWrite & { pass: string })[] {
  if (!options.passOptions.buildContext || findSuppressions(parsed, options.passes).wholeFile) return [];
  const out: (ContextFileWrite & { pass: string })[] = [];
  for (const pass of options.passes) {
    if (!pass.contextFiles || failures.has(pass.meta.id)) continue;
    try {
      for (const write of pass.contextFiles(parsed, options.passOptions)) {
        if (write.newText !== write.oldText && !out.some((w) => w.path === write.path))
          out.push({ ...write, pass: pass.meta.id });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      failures.set(pass.meta.id, { pass: pass.meta.id, message });
    }
  }
  return out;
}

function runPasses(
  parsed: ParsedDockerfile,
  options: OptimizeOptions,
  failures: Map<string, PassFailure>,
): { changes: Change[]; skips: ReportedSkip[] } {
  const changes: Change[] = [];
  const skips: ReportedSkip[] = [];
  const suppressions = findSuppressions(parsed, options.passes);
  if (suppressions.wholeFile) return { changes, skips };
  const runGroup = (passes: readonly Pass[]) => {
    for (const pass of passes) {
      if (failures.has(pass.meta.id)) continue;
      try {
        const result = runPass(pass, parsed, options.passOptions);
        const own = result.changes.map((c) => ({
          ...c,
          edits: mergeOverlappingDeletions(c.edits, parsed.text, parsed.escapeChar),
        }));
        for (const change of own) checkEdits(change, parsed.text.length); // all or none of the pass's changes
        for (const change of own) if (!isSuppressed(change, suppressions)) changes.push(change);
        for (const s of result.skips)
          skips.push({ pass: s.pass, line: parsed.lines.lineAt(s.at) + 1, reason: s.reason });
      } catch (error) {
        // A crashing pass is a dfopt bug: report it and go on without that pass.
        const message = error instanceof Error ? error.message : String(error);
        failures.set(pass.meta.id, { pass: pass.meta.id, message });
      }
    }
  };
  runGroup(options.passes.filter((p) => !p.meta.runsLast));
  // Restructuring passes wait until nothing else would be applied this round.
  if (!changes.some((c) => c.safety === "safe" || options.unsafe))
    runGroup(options.passes.filter((p) => p.meta.runsLast));
  return { changes, skips };
}

/** A change whose edits overlap or leave the text is a pass bug: treat it like a crash of that pass. */
function checkEdits(change: Change, length: number): void {
  let cursor = 0;
  for (const edit of sortedEdits(change.edits)) {
    if (edit.start < cursor || edit.end < edit.start || edit.end > length) {
      throw new Error(`${change.pass} proposed overlapping or out-of-range edits at offset ${edit.start}`);
    }
    cursor = edit.end;
  }
}

/**
 * Applies the changes together; if the result no longer parses (or a RUN
 * body that parsed as shell no longer does), finds and drops the culprits by
 * applying the changes one at a time. Never returns a broken file.
 */
function applyValidated(
  parsed: ParsedDockerfile,
  changes: readonly Change[],
  onBroken: (change: Change) => void,
): { parsed: ParsedDockerfile; applied: Change[] } | null {
  const all = tryApply(parsed, changes);
  if (all) return { parsed: all, applied: [...changes] };
  const applied: Change[] = [];
  for (const change of changes) {
    const result = tryApply(parsed, [...applied, change]);
    if (result) applied.push(change);
    else onBroken(change);
  }
  if (applied.length === 0) return null;
  const result = tryApply(parsed, applied);
  return result ? { parsed: result, applied } : null;
}

function tryApply(parsed: ParsedDockerfile, changes: readonly Change[]): ParsedDockerfile | null {
  const edits = changes.flatMap((c) => c.edits);
  const text = applyEdits(parsed.text, edits);
  if (text === parsed.text) return null;
  let next: ParsedDockerfile;
  try {
    next = parseDockerfile(text);
  } catch {
    return null;
  }
  if (!untouchedInstructionsKept(parsed, next, edits)) return null;
  return shellFailures(next) <= shellFailures(parsed) ? next : null;
}

/**
 * Every instruction no edit touches is still an instruction of its own, with
 * the same text, in the result. An edit can change how Docker splits the file
 * beyond its range: a RUN left ending in a line continuation followed by
 * blank lines swallows the next instruction (`ENV A=1` becomes words of the
 * RUN), which still parses but no longer sets A.
 */
function untouchedInstructionsKept(parsed: ParsedDockerfile, next: ParsedDockerfile, edits: readonly Edit[]): boolean {
  // One pass over both lists, in file order: the edits don't overlap, so their ends rise with their starts.
  const sorted = sortedEdits(edits);
  const startsAfter = new Map(next.instructions.map((i) => [i.start, i]));
  let shift = 0;
  let k = 0;
  for (const node of parsed.instructions) {
    while (k < sorted.length && sorted[k]!.end < node.start) {
      shift += sorted[k]!.newText.length - (sorted[k]!.end - sorted[k]!.start);
      k++;
    }
    // Touching: overlapping, or an insertion at either end.
    if (k < sorted.length && sorted[k]!.start <= node.end) continue;
    const moved = startsAfter.get(node.start + shift);
    if (!moved || moved.end - moved.start !== node.end - node.start || moved.keyword !== node.keyword) return false;
  }
  return true;
}

interface Span {
  readonly start: number;
  readonly end: number;
}

function spanOf(change: Change): Span {
  let start = Infinity;
  let end = -Infinity;
  for (const e of change.edits) {
    if (e.start < start) start = e.start;
    if (e.end > end) end = e.end;
  }
  return { start, end };
}

/** Overlapping or sharing an end point (what changesConflict can call a conflict). */
function spansTouch(a: Span, b: Span): boolean {
  return a.start <= b.end && b.start <= a.end;
}

/** RUN bodies that don't parse; once per parsed file (tryApply compares against the same file often). */
const shellFailures = memoByFile((parsed: ParsedDockerfile): number => {
  let n = 0;
  for (const i of parsed.instructions) if (i.shell && !i.shell.parse.ok) n++;
  return n;
});

function parseLines(input: string, bom: string): (offset: number) => number {
  const text = bom ? input.slice(1) : input;
  const starts: number[] = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
}

function describe(change: Change, lineOf: (offset: number) => number): ReportedChange {
  const starts = change.edits.map((e) => e.start);
  const ends = change.edits.map((e) => Math.max(e.start, e.end - 1));
  const line = lineOf(Math.min(...starts));
  const endLine = Math.max(line, lineOf(Math.max(...ends)));
  return {
    pass: change.pass,
    reason: change.reason,
    safety: change.safety,
    ...(change.unsafeBecause ? { unsafeBecause: change.unsafeBecause } : {}),
    line,
    endLine,
  };
}
