/**
 * Human and machine output: the per-change lines on stderr, the JSON result,
 * the coloured diff for terminals, the pass table (`dfopt list`, README),
 * and for batches the end-of-run summary table and the `--report` file
 * (JSON or Markdown, per repository and file).
 */
import pc from "picocolors";
import type { NotAppliedChange, PassFailure, ReportedChange, ReportedSkip } from "./pipeline.js";
import type { FileOutcome } from "./process.js";
import type { Pass } from "./types.js";

/** `file:line  pass-id  reason [unsafe]`, one line per change. */
export function changeLines(outcome: FileOutcome): string {
  if (outcome.status === "error" || outcome.status === "skipped") return "";
  const { result } = outcome;
  let out = "";
  for (const c of result.applied) {
    out += `${outcome.path}:${c.line}  ${c.pass}  ${c.reason}${c.safety === "unsafe" ? " [unsafe]" : ""}\n`;
  }
  for (const c of result.notApplied) {
    const why =
      c.why === "unsafe"
        ? `[unsafe, not applied: ${c.unsafeBecause ?? "needs review"}; use --unsafe]`
        : "[not applied: the result did not parse]";
    out += `${outcome.path}:${c.line}  ${c.pass}  ${c.reason} ${why}\n`;
  }
  for (const f of result.passFailures) {
    out += `${outcome.path}  ${f.pass}  internal error, pass skipped for this file (please report): ${f.message}\n`;
  }
  return out;
}

/** The line for a file that could not be processed or was skipped. */
export function problemLine(outcome: FileOutcome): string {
  if (outcome.status === "error") {
    return `${outcome.path}${outcome.line ? `:${outcome.line}` : ""}: error: ${outcome.message}\n`;
  }
  if (outcome.status === "skipped") return `${outcome.path}: skipped: ${outcome.message}\n`;
  return "";
}

export interface JsonFile {
  path: string;
  status: FileOutcome["status"];
  error?: { message: string; line: number | null };
  skipped?: string;
  changes?: unknown[];
  notApplied?: unknown[];
  skips?: unknown[];
  passFailures?: unknown[];
  diff?: string;
}

/** `--json` on stdout: every file with its changes and diff. */
export function jsonReport(outcomes: readonly FileOutcome[]): { files: JsonFile[]; summary: Record<string, number> } {
  const files: JsonFile[] = outcomes.map((o) => {
    if (o.status === "error") return { path: o.path, status: o.status, error: { message: o.message, line: o.line } };
    if (o.status === "skipped") return { path: o.path, status: o.status, skipped: o.message };
    return {
      path: o.path,
      status: o.status,
      changes: [...o.result.applied],
      notApplied: [...o.result.notApplied],
      skips: [...o.result.skips],
      passFailures: [...o.result.passFailures],
      diff: o.diff,
    };
  });
  const summary = {
    files: outcomes.length,
    changed: outcomes.filter((o) => o.status === "changed").length,
    unchanged: outcomes.filter((o) => o.status === "unchanged").length,
    skipped: outcomes.filter((o) => o.status === "skipped").length,
    errors: outcomes.filter((o) => o.status === "error").length,
  };
  return { files, summary };
}

export function colorDiff(diff: string): string {
  return diff
    .split("\n")
    .map((line) => {
      if (line.startsWith("+++") || line.startsWith("---") || line.startsWith("diff --git")) return pc.bold(line);
      if (line.startsWith("@@")) return pc.cyan(line);
      if (line.startsWith("+")) return pc.green(line);
      if (line.startsWith("-")) return pc.red(line);
      return line;
    })
    .join("\n");
}

/** Markdown table of passes, generated from metadata (README and `dfopt list`). */
export function passTable(passes: readonly Pass[]): string {
  const rows = passes.map(
    (p) =>
      `| \`${p.meta.id}\` | ${p.meta.defaultEnabled ? "yes" : "opt-in"} | ${p.meta.summary.replace(/\|/g, "\\|")} |`,
  );
  return ["| pass | default | what it does |", "| --- | --- | --- |", ...rows, ""].join("\n");
}

// ---------------------------------------------------------------------------
// Batch records: what a report keeps of each file once its outcome was used
// (no file texts, so a batch of thousands of files stays small in memory).

export interface FileRecord {
  /** Display path (relative to the working directory when inside it). */
  readonly path: string;
  /** The repository the file belongs to (display path; "." for the working directory). */
  readonly repository: string;
  readonly status: FileOutcome["status"];
  readonly changes: readonly ReportedChange[];
  readonly notApplied: readonly NotAppliedChange[];
  readonly skips: readonly ReportedSkip[];
  readonly passFailures: readonly PassFailure[];
  /** For errors (unreadable, unparseable, could not write) and skipped files: why. */
  readonly message?: string;
  readonly line?: number | null;
}

export function fileRecord(outcome: FileOutcome, repository: string, writeError?: string): FileRecord {
  if (outcome.status === "error" || outcome.status === "skipped") {
    return {
      path: outcome.path,
      repository,
      status: outcome.status,
      changes: [],
      notApplied: [],
      skips: [],
      passFailures: [],
      message: outcome.message,
      line: outcome.status === "error" ? outcome.line : null,
    };
  }
  const r = outcome.result;
  return {
    path: outcome.path,
    repository,
    status: writeError ? "error" : outcome.status,
    changes: r.applied,
    notApplied: r.notApplied,
    skips: r.skips,
    passFailures: r.passFailures,
    ...(writeError ? { message: writeError, line: null } : {}),
  };
}

/**
 * The record with only what the summary counts: pass ids, safety, why not
 * applied. A batch that writes no report keeps this instead of the full
 * record, so memory does not grow with every reason string of a large tree
 * (the entries are shared objects, one per kind).
 */
export function countsOnly(record: FileRecord): FileRecord {
  return {
    path: record.path,
    repository: record.repository,
    status: record.status,
    changes: record.changes.map((c) =>
      shared(`c:${c.pass}:${c.safety}`, () => ({ ...blank, pass: c.pass, safety: c.safety })),
    ),
    notApplied: record.notApplied.map((c) =>
      shared(`n:${c.pass}:${c.why}`, () => ({ ...blank, pass: c.pass, why: c.why })),
    ),
    skips: record.skips.map((s) => shared(`s:${s.pass}`, () => ({ pass: s.pass, line: 0, reason: "" }))),
    passFailures: record.passFailures.map((f) => shared(`f:${f.pass}`, () => ({ pass: f.pass, message: "" }))),
    ...(record.message === undefined ? {} : { message: record.message, line: record.line ?? null }),
  };
}

const blank = { pass: "", reason: "", safety: "safe", line: 0, endLine: 0 } as const;
const sharedEntries = new Map<string, unknown>();

function shared<T>(key: string, make: () => T): T {
  let entry = sharedEntries.get(key) as T | undefined;
  if (entry === undefined) {
    entry = make();
    sharedEntries.set(key, entry);
  }
  return entry;
}

export interface PassTotals {
  /** Changes applied (or that would be, in a dry run / --check). */
  changes: number;
  /** Files with at least one applied change from this pass. */
  files: number;
  /** Unsafe changes left out (no --unsafe). */
  unsafeNotApplied: number;
  /** Changes dropped because the result did not parse. */
  brokeParse: number;
  skips: number;
  /** Files on which the pass crashed (reported, pass skipped for that file). */
  failures: number;
}

export interface Totals {
  files: number;
  changed: number;
  unchanged: number;
  skipped: number;
  errors: number;
  changes: number;
  byPass: Record<string, PassTotals>;
}

export function totals(records: readonly FileRecord[], passIds: readonly string[] = []): Totals {
  const t: Totals = { files: 0, changed: 0, unchanged: 0, skipped: 0, errors: 0, changes: 0, byPass: {} };
  const pass = (id: string): PassTotals =>
    (t.byPass[id] ??= { changes: 0, files: 0, unsafeNotApplied: 0, brokeParse: 0, skips: 0, failures: 0 });
  for (const id of passIds) pass(id);
  for (const r of records) {
    t.files++;
    if (r.status === "changed") t.changed++;
    else if (r.status === "unchanged") t.unchanged++;
    else if (r.status === "skipped") t.skipped++;
    else t.errors++;
    const touched = new Set<string>();
    for (const c of r.changes) {
      pass(c.pass).changes++;
      t.changes++;
      touched.add(c.pass);
    }
    for (const id of touched) pass(id).files++;
    for (const c of r.notApplied) {
      if (c.why === "unsafe") pass(c.pass).unsafeNotApplied++;
      else pass(c.pass).brokeParse++;
    }
    for (const s of r.skips) pass(s.pass).skips++;
    for (const f of r.passFailures) pass(f.pass).failures++;
  }
  const sorted: Record<string, PassTotals> = {};
  for (const id of Object.keys(t.byPass).sort()) sorted[id] = t.byPass[id]!;
  t.byPass = sorted;
  return t;
}

/** The table printed on stderr at the end of every batch run. */
export function summaryTable(t: Totals, seconds: number, extra: { ignored?: number; mode: string }): string {
  const rate = seconds > 0 ? ` (${(t.files / seconds).toFixed(0)} files/s)` : "";
  const lines = [
    "",
    `dfopt ${extra.mode}: ${t.files} file${t.files === 1 ? "" : "s"} scanned in ${seconds.toFixed(1)} s${rate}`,
    `  changed ${t.changed} · unchanged ${t.unchanged} · skipped ${t.skipped} · errors ${t.errors}` +
      (extra.ignored ? ` · ignored ${extra.ignored}` : ""),
  ];
  const rows = Object.entries(t.byPass).filter(
    ([, p]) => p.changes + p.unsafeNotApplied + p.brokeParse + p.skips + p.failures > 0,
  );
  if (rows.length > 0) {
    const header = ["pass", "changes", "files", "unsafe (not applied)", "skips", "failures"];
    const body = rows.map(([id, p]) => [
      id,
      String(p.changes),
      String(p.files),
      String(p.unsafeNotApplied),
      String(p.skips),
      String(p.failures),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
    const fmt = (cells: string[]) =>
      "  " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
    lines.push("", fmt(header), ...body.map(fmt));
  }
  return `${lines.join("\n")}\n`;
}

export interface BatchReportInput {
  readonly version: string;
  readonly mode: "diff" | "write" | "check";
  readonly records: readonly FileRecord[];
  readonly passIds: readonly string[];
  /** Arguments that could not be used (missing path, empty directory…). */
  readonly problems: readonly { arg: string; message: string }[];
  readonly ignored: readonly { path: string; by: string }[];
}

/** The `--report x.json` document. Deterministic: no timestamps or timings. */
export function batchReportJson(input: BatchReportInput): unknown {
  const repos = groupByRepository(input.records);
  return {
    tool: { name: "dfopt", version: input.version },
    mode: input.mode,
    summary: totals(input.records, input.passIds),
    problems: input.problems,
    ignored: input.ignored,
    errors: input.records
      .filter((r) => r.status === "error")
      .map((r) => ({ path: r.path, line: r.line ?? null, message: r.message })),
    repositories: repos.map(([repository, files]) => ({
      path: repository,
      summary: totals(files),
      files: files.map((f) => ({
        path: f.path,
        status: f.status,
        ...(f.message !== undefined ? { message: f.message, line: f.line ?? null } : {}),
        changes: f.changes,
        notApplied: f.notApplied,
        skips: f.skips,
        passFailures: f.passFailures,
      })),
    })),
  };
}

/** The `--report x.md` document, for reading in a pull request or an issue. */
export function batchReportMarkdown(input: BatchReportInput): string {
  const t = totals(input.records, input.passIds);
  const out: string[] = [];
  const md = (s: string) => s.replace(/([|\\`*_[\]<>])/g, "\\$1").replace(/\n/g, " ");
  const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;
  out.push(`# dfopt report (${input.mode})`, "");
  out.push(
    "| files | changed | unchanged | skipped | errors | changes |",
    "| ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  out.push(`| ${t.files} | ${t.changed} | ${t.unchanged} | ${t.skipped} | ${t.errors} | ${t.changes} |`, "");
  out.push("## Changes per pass", "");
  out.push(
    "| pass | changes | files | unsafe, not applied | dropped (did not parse) | skips | failures |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const [id, p] of Object.entries(t.byPass)) {
    out.push(
      `| ${code(id)} | ${p.changes} | ${p.files} | ${p.unsafeNotApplied} | ${p.brokeParse} | ${p.skips} | ${p.failures} |`,
    );
  }
  out.push("");
  if (input.problems.length > 0 || t.errors > 0) {
    out.push("## Errors", "");
    for (const p of input.problems) out.push(`- ${code(p.arg)}: ${md(p.message)}`);
    for (const r of input.records.filter((x) => x.status === "error")) {
      out.push(`- ${code(`${r.path}${r.line ? `:${r.line}` : ""}`)}: ${md(r.message ?? "")}`);
    }
    out.push("");
  }
  if (input.ignored.length > 0) {
    out.push("## Ignored", "");
    for (const i of input.ignored) out.push(`- ${code(i.path)} (by ${code(i.by)})`);
    out.push("");
  }
  out.push("## Repositories", "");
  for (const [repository, files] of groupByRepository(input.records)) {
    const rt = totals(files);
    out.push(
      `### ${code(repository)}`,
      "",
      `${rt.files} files: ${rt.changed} changed, ${rt.unchanged} unchanged, ${rt.skipped} skipped, ${rt.errors} errors.`,
      "",
    );
    const quiet: string[] = [];
    for (const f of files) {
      const eventful =
        f.changes.length + f.notApplied.length + f.skips.length + f.passFailures.length > 0 || f.message !== undefined;
      if (!eventful) {
        quiet.push(f.path);
        continue;
      }
      out.push(`#### ${code(f.path)} (${f.status})`, "");
      if (f.message !== undefined) {
        out.push(
          `- **${f.status === "error" ? "error" : "skipped"}**${f.line ? ` (line ${f.line})` : ""}: ${md(f.message)}`,
        );
      }
      for (const c of f.changes) {
        out.push(`- ${lines(c)} ${code(c.pass)} (${c.safety}): ${md(c.reason)}`);
      }
      for (const c of f.notApplied) {
        const why =
          c.why === "unsafe"
            ? `not applied, unsafe: ${md(c.unsafeBecause ?? "needs review")} (use --unsafe)`
            : "not applied: the result did not parse";
        out.push(`- ${lines(c)} ${code(c.pass)} — ${why}: ${md(c.reason)}`);
      }
      for (const s of f.skips) out.push(`- line ${s.line} ${code(s.pass)} left alone: ${md(s.reason)}`);
      for (const p of f.passFailures)
        out.push(`- ${code(p.pass)} **crashed** (pass skipped for this file): ${md(p.message)}`);
      out.push("");
    }
    if (quiet.length > 0) {
      out.push(`Unchanged, nothing to report: ${quiet.map(code).join(", ")}`, "");
    }
  }
  return out.join("\n");
}

function lines(c: ReportedChange): string {
  return c.endLine > c.line ? `lines ${c.line}–${c.endLine}` : `line ${c.line}`;
}

export function groupByRepository(records: readonly FileRecord[]): [string, FileRecord[]][] {
  const map = new Map<string, FileRecord[]>();
  for (const r of records) {
    let list = map.get(r.repository);
    if (!list) map.set(r.repository, (list = []));
    list.push(r);
  }
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}
