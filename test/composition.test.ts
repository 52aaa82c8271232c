/**
 * Passes compose: whatever order the engine runs them in, every file reaches
 * the same fixed point. Checked on the fixture cases and the shared corpus
 * with the registry order, its reverse and two seeded shuffles.
 */
import { describe, expect, it } from "vitest";
import { allPasses } from "../passes/index.js";
import { DockerfileError } from "../src/dockerfile.js";
import { optimize } from "../src/pipeline.js";
import { selectPasses } from "../src/select.js";
import { defaultPassOptions, type Pass } from "../src/types.js";
import { loadCases } from "./support/cases.js";
import { sharedCorpusFiles } from "./support/shared-corpus.js";

function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2147483648;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function run(text: string, passes: readonly Pass[]): string | null {
  try {
    const enabledPasses = new Set(passes.map((p) => p.meta.id));
    return optimize(text, { passes, passOptions: { ...defaultPassOptions, enabledPasses }, unsafe: false }).output;
  } catch (error) {
    if (error instanceof DockerfileError) return null;
    throw error;
  }
}

const defaults = selectPasses(allPasses, {});
const orders = [[...defaults].reverse(), shuffled(defaults, 7), shuffled(defaults, 42)];

describe("pass composition", () => {
  it("fixture cases reach the same fixed point in any pass order", () => {
    for (const c of loadCases()) {
      if (c.options.only || c.options.skip || c.options.unsafe) continue;
      const reference = run(c.input, defaults);
      for (const order of orders) expect(run(c.input, order), c.name).toBe(reference);
    }
  });

  it("shared corpus files reach the same fixed point in any pass order", () => {
    const differing: string[] = [];
    for (const f of sharedCorpusFiles()) {
      const reference = run(f.text, defaults);
      if (orders.some((order) => run(f.text, order) !== reference)) differing.push(f.name);
    }
    expect(differing).toEqual([]);
  }, 300_000);
});
