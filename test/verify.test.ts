import { describe, expect, it } from "vitest";
import { formatReport, verdict } from "../src/verify/command.js";
import { unsupportedOnEngine, type VerifyReport } from "../src/verify/verify.js";

const built = { built: true, coldSeconds: 30, warmSeconds: 10, sizeBytes: 500e6, layers: 10, smoke: "pass" as const };

function report(overrides: Partial<VerifyReport>): VerifyReport {
  return {
    dockerfile: "Dockerfile",
    context: ".",
    engine: "20.10.24",
    touched: "app.py",
    changes: 3,
    original: built,
    optimized: { ...built, sizeBytes: 200e6, warmSeconds: 2 },
    fileTree: { added: [], removed: ["/usr/bin/gcc"] },
    ...overrides,
  };
}

describe("dfopt verify", () => {
  it("explains why a # syntax= line can't be built here", () => {
    expect(unsupportedOnEngine("# syntax=docker/dockerfile:1\nFROM debian\n", "20.10.24")).toMatch(
      /pull that frontend image/,
    );
  });

  it("explains that Docker 20.10's built-in frontend lacks heredocs, and accepts them on 23+", () => {
    const heredoc = "FROM debian\nRUN <<EOF\necho hi\nEOF\n";
    expect(unsupportedOnEngine(heredoc, "20.10.24")).toMatch(/heredocs/);
    expect(unsupportedOnEngine(heredoc, "26.1.5")).toBeNull();
    expect(unsupportedOnEngine("FROM debian\nRUN echo hi\n", "20.10.24")).toBeNull();
  });

  it("passes when the optimized image builds and keeps the smoke test green", () => {
    expect(verdict(report({}))).toBe(0);
  });

  it("fails when the optimized image breaks the smoke test the original passed", () => {
    expect(verdict(report({ optimized: { ...built, smoke: "fail" } }))).toBe(1);
    expect(verdict(report({ optimized: { built: false, smoke: "not-run", error: "boom" } }))).toBe(1);
  });

  it("prints size change, rebuild speedup and the file-tree difference", () => {
    const text = formatReport(report({}));
    expect(text).toContain("-60.0%");
    expect(text).toContain("5.0x faster");
    expect(text).toContain("- /usr/bin/gcc");
  });
});
