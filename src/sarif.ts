/**
 * SARIF 2.1.0 output (`--format sarif`) for code-scanning UIs such as GitHub
 * code scanning: one rule per pass (from its metadata: summary, title, the
 * markdown doc as help) and one result per change, located at the lines the
 * change touches in the original file. Applied (or would-be-applied) changes
 * are warnings; unsafe changes left out without --unsafe are notes. Files
 * dfopt could not process become tool execution notifications.
 *
 * Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html
 */
import type { FileRecord } from "./report.js";
import type { Pass } from "./types.js";

export interface SarifInput {
  readonly version: string;
  readonly passes: readonly Pass[];
  readonly records: readonly FileRecord[];
  /** Maps a record's display path to its path relative to the source root (forward slashes). */
  readonly uriOf: (displayPath: string) => string;
  /** Absolute source root, recorded as %SRCROOT% (file URI with a trailing slash). */
  readonly rootUri: string;
}

interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string; uriBaseId: string };
    region?: { startLine: number; endLine?: number };
  };
}

export function sarifLog(input: SarifInput): unknown {
  const ruleIndex = new Map(input.passes.map((p, i) => [p.meta.id, i]));
  const rules = input.passes.map((p) => ({
    id: p.meta.id,
    name: p.meta.id.replace(/(^|-)([a-z0-9])/g, (_m: string, _d: string, c: string) => c.toUpperCase()),
    shortDescription: { text: p.meta.summary },
    fullDescription: { text: p.meta.title },
    help: { text: p.meta.doc.trim(), markdown: p.meta.doc.trim() },
    defaultConfiguration: { level: "warning", enabled: p.meta.defaultEnabled },
    properties: {
      tags: ["dockerfile", "optimization"],
      ...(p.meta.hadolintRules?.length ? { hadolintRules: [...p.meta.hadolintRules] } : {}),
    },
  }));

  const location = (path: string, line?: number, endLine?: number): SarifLocation => ({
    physicalLocation: {
      artifactLocation: { uri: encodeUri(input.uriOf(path)), uriBaseId: "%SRCROOT%" },
      ...(line ? { region: { startLine: line, ...(endLine && endLine > line ? { endLine } : {}) } } : {}),
    },
  });

  const results: unknown[] = [];
  const notifications: unknown[] = [];
  for (const r of input.records) {
    for (const c of r.changes) {
      results.push({
        ruleId: c.pass,
        ...(ruleIndex.has(c.pass) ? { ruleIndex: ruleIndex.get(c.pass) } : {}),
        level: "warning",
        message: { text: c.reason },
        locations: [location(r.path, c.line, c.endLine)],
        properties: { safety: c.safety, ...(c.unsafeBecause ? { unsafeBecause: c.unsafeBecause } : {}) },
      });
    }
    for (const c of r.notApplied) {
      results.push({
        ruleId: c.pass,
        ...(ruleIndex.has(c.pass) ? { ruleIndex: ruleIndex.get(c.pass) } : {}),
        level: "note",
        message: {
          text:
            c.why === "unsafe"
              ? `${c.reason} (unsafe, not applied: ${c.unsafeBecause ?? "needs review"}; use --unsafe)`
              : `${c.reason} (not applied: the result did not parse)`,
        },
        locations: [location(r.path, c.line, c.endLine)],
        properties: { safety: c.safety, notApplied: c.why },
      });
    }
    for (const f of r.passFailures) {
      notifications.push({
        level: "warning",
        message: { text: `pass ${f.pass} crashed on this file and was skipped for it (please report): ${f.message}` },
        locations: [location(r.path)],
        associatedRule: { id: f.pass },
      });
    }
    if (r.status === "error" || r.status === "skipped") {
      notifications.push({
        level: r.status === "error" ? "error" : "note",
        message: { text: `${r.status === "error" ? "not processed" : "skipped"}: ${r.message ?? ""}` },
        locations: [location(r.path, r.line ?? undefined)],
      });
    }
  }

  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "dfopt", version: input.version, semanticVersion: input.version, rules } },
        originalUriBaseIds: { "%SRCROOT%": { uri: input.rootUri } },
        invocations: [
          {
            executionSuccessful: !input.records.some((r) => r.status === "error"),
            toolExecutionNotifications: notifications,
          },
        ],
        results,
        columnKind: "utf16CodeUnits",
      },
    ],
  };
}

/** A relative path as a URI reference: each segment percent-encoded. */
function encodeUri(relativePath: string): string {
  return relativePath
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
}
