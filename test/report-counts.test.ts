/**
 * A batch without --report keeps only what its summary counts (countsOnly):
 * the summary must be exactly the one the full records give.
 */
import { describe, expect, it } from "vitest";
import { processText } from "../src/process.js";
import { countsOnly, fileRecord, totals } from "../src/report.js";
import { sharedCorpusFiles } from "./support/shared-corpus.js";

const files = sharedCorpusFiles().slice(0, 300);

describe.skipIf(files.length === 0)("summary counts without the reasons", () => {
  it("gives the same totals per pass as the full records, in default and --unsafe mode", () => {
    for (const unsafe of [false, true]) {
      const full = files.map((f) => fileRecord(processText(f.text, f.name, { unsafe }), "."));
      const compact = full.map(countsOnly);
      const passIds = ["cache-mounts", "chain-runs", "builder-runner"];
      expect(totals(compact, passIds)).toEqual(totals(full, passIds));
      expect(totals(full).changes).toBeGreaterThan(100);
      expect(compact.map((r) => [r.path, r.status, r.message])).toEqual(full.map((r) => [r.path, r.status, r.message]));
      // The reasons are what's dropped: entries are shared, not one per change.
      const distinct = new Set(compact.flatMap((r) => r.changes));
      expect(distinct.size).toBeLessThan(60);
    }
  });
});
