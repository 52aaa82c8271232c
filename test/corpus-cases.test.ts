import { describe, expect, it } from "vitest";
import { optimizeDockerfile } from "../src/api.js";
import { loadCases } from "./support/cases.js";

const cases = loadCases();

describe("corpus/ fixture cases", () => {
  it("has cases, each with a README saying what it proves", () => {
    expect(cases.length).toBeGreaterThan(0);
    for (const c of cases) expect(c.readme, `${c.name}/README`).not.toBe("");
  });

  for (const c of cases) {
    it(`${c.name}: ${c.readme}`, () => {
      const result = optimizeDockerfile(c.input, c.options);
      expect(result.passFailures).toEqual([]);
      expect(result.output).toBe(c.expected);
      // The expected output is a fixed point: a second run changes nothing.
      expect(optimizeDockerfile(result.output, c.options).output).toBe(result.output);
    });
  }
});
