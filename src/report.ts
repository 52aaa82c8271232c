/**
 * Human and machine output: the per-change lines on stderr, the JSON result,
 * the coloured diff for terminals, and the pass table (`dfopt list`, README).
 */
import pc from "picocolors";
import type { FileOutcome } from "./process.js";
import type { Pass } from "./types.js";

/** `file:line  pass-id  reason [unsafe]`, one line per change. */
export function changeLines(outcome: FileOutcome): string {
  if (outcome.status === "error") return "";
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

export interface JsonFile {
  path: string;
  status: FileOutcome["status"];
  error?: { message: string; line: number | null };
  changes?: unknown[];
  notApplied?: unknown[];
  skips?: unknown[];
  passFailures?: unknown[];
  diff?: string;
}

export function jsonReport(outcomes: readonly FileOutcome[]): { files: JsonFile[]; summary: Record<string, number> } {
  const files: JsonFile[] = outcomes.map((o) =>
    o.status === "error"
      ? { path: o.path, status: o.status, error: { message: o.message, line: o.line } }
      : {
          path: o.path,
          status: o.status,
          changes: [...o.result.applied],
          notApplied: [...o.result.notApplied],
          skips: [...o.result.skips],
          passFailures: [...o.result.passFailures],
          diff: o.diff,
        },
  );
  const summary = {
    files: outcomes.length,
    changed: outcomes.filter((o) => o.status === "changed").length,
    unchanged: outcomes.filter((o) => o.status === "unchanged").length,
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
