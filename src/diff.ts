/**
 * A git-style unified diff (`git apply`-able) in which every hunk header
 * names the passes that produced it. Git ignores the text after the second
 * `@@` (it is the "section heading"), so the explanation costs nothing to
 * tools that apply the patch.
 */
import { formatPatch, structuredPatch } from "diff";
import type { ReportedChange } from "./pipeline.js";

export interface DiffOptions {
  /** Path shown after a/ and b/ (relative, forward slashes). */
  readonly path: string;
  /** Changes to annotate hunks with (lines in the old file). */
  readonly changes?: readonly ReportedChange[];
  /** Lines of context (git's default is 3). */
  readonly context?: number;
}

export function unifiedDiff(oldText: string, newText: string, options: DiffOptions): string {
  if (oldText === newText) return "";
  const path = options.path.replace(/\\/g, "/").replace(/^\.\//, "").replace(/^\/+/, "");
  const patch = structuredPatch(`a/${path}`, `b/${path}`, oldText, newText, undefined, undefined, {
    context: options.context ?? 3,
  });
  const body = formatPatch(patch)
    .split("\n")
    // formatPatch starts with "Index:" and a "====" rule; git wants a diff --git header.
    .filter((line, i) => !(i < 2 && (line.startsWith("Index: ") || /^=+$/.test(line))));
  const annotations = patch.hunks.map((hunk) => hunkNote(hunk.oldStart, hunk.oldLines, options.changes ?? []));
  let hunkIndex = 0;
  const lines = body.map((line) => {
    if (line.startsWith("--- ")) return `--- a/${path}`;
    if (line.startsWith("+++ ")) return `+++ b/${path}`;
    if (/^@@ -\d+(,\d+)? \+\d+(,\d+)? @@$/.test(line)) {
      const note = annotations[hunkIndex++];
      return note ? `${line} ${note}` : line;
    }
    return line;
  });
  let text = `diff --git a/${path} b/${path}\n${lines.join("\n")}`;
  if (!text.endsWith("\n")) text += "\n";
  return text;
}

function hunkNote(oldStart: number, oldLines: number, changes: readonly ReportedChange[]): string {
  const first = oldLines === 0 ? oldStart : oldStart;
  const last = oldStart + Math.max(oldLines, 1) - 1;
  const passes = new Set<string>();
  for (const change of changes) {
    if (change.line <= last && change.endLine >= first)
      passes.add(change.safety === "unsafe" ? `${change.pass} [unsafe]` : change.pass);
  }
  return [...passes].join(", ");
}

/**
 * The diff of a proposed context file: a new-file patch (`--- /dev/null`)
 * when it doesn't exist yet, an ordinary one otherwise.
 */
export function contextFileDiff(oldText: string | null, newText: string, path: string, pass: string): string {
  if (oldText !== null)
    return unifiedDiff(oldText, newText, { path, changes: [] }).replace(/^(@@ .* @@)$/m, `$1 ${pass}`);
  const clean = path.replace(/\\/g, "/").replace(/^\.\//, "").replace(/^\/+/, "");
  const lines = newText.split("\n");
  const endsWithNewline = newText.endsWith("\n");
  if (endsWithNewline) lines.pop();
  let out = `diff --git a/${clean} b/${clean}\nnew file mode 100644\n--- /dev/null\n+++ b/${clean}\n@@ -0,0 +1,${lines.length} @@ ${pass}\n`;
  out += lines.map((l) => `+${l}\n`).join("");
  if (!endsWithNewline) out += "\\ No newline at end of file\n";
  return out;
}
