import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { withPassTable } from "../scripts/gen-readme.js";

const readme = readFileSync(path.resolve(import.meta.dirname, "../README.md"), "utf8");

describe("README", () => {
  it("has the pass table generated from pass metadata (run `npm run readme`)", () => {
    expect(withPassTable(readme)).toBe(readme);
  });

  it("starts with the two commands that set up, run and test dfopt", () => {
    const commands = [...readme.matchAll(/^```(?:sh|bash)\n([\s\S]*?)```/gm)].map((m) => m[1]!.trim());
    expect(commands[0]).toMatch(/^npm ci && npx dfopt examples\/\S+\/Dockerfile$/);
    expect(commands[1]).toBe("npm test");
  });
});
