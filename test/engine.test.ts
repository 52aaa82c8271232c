/**
 * The engine with small test passes: conflict handling, fixed-point rounds,
 * unsafe gating, broken output never written, crashing passes isolated,
 * lines reported against the original, byte preservation, git-apply-able diff.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { unifiedDiff } from "../src/diff.js";
import type { ParsedDockerfile } from "../src/dockerfile.js";
import { optimize } from "../src/pipeline.js";
import { defaultPassOptions, type Change, type Pass, type PassResult } from "../src/types.js";

function pass(id: string, run: (file: ParsedDockerfile) => Change[]): Pass {
  return {
    meta: { id, title: id, summary: id, doc: id, defaultEnabled: true },
    run: (file): PassResult => ({ changes: run(file), skips: [] }),
  };
}

/** Upper-cases the first lower-case `run` keyword it finds: one change per round. */
const upperRun = pass("upper-run", (file) => {
  const node = file.instructions.find((i) => i.keyword === "RUN" && file.text.startsWith("run", i.start));
  return node
    ? [
        {
          pass: "upper-run",
          edits: [{ start: node.start, end: node.start + 3, newText: "RUN" }],
          reason: "upper",
          safety: "safe",
        },
      ]
    : [];
});

function run(text: string, passes: Pass[], unsafe = false) {
  return optimize(text, { passes, passOptions: defaultPassOptions, unsafe });
}

describe("engine", () => {
  it("iterates to a fixed point, reporting each change on its original line", () => {
    const result = run("FROM a\nrun one\n# keep\nrun two\n", [upperRun]);
    expect(result.output).toBe("FROM a\nRUN one\n# keep\nRUN two\n");
    expect(result.applied.map((c) => c.line)).toEqual([2, 4]);
    expect(result.converged).toBe(true);
    expect(result.rounds).toBe(3);
  });

  it("applies the first of two conflicting changes and retries the other next round", () => {
    const a = pass("a", (file) =>
      file.text.includes("x")
        ? [
            {
              pass: "a",
              edits: [{ start: file.text.indexOf("x"), end: file.text.indexOf("x") + 1, newText: "y" }],
              reason: "x→y",
              safety: "safe",
            },
          ]
        : [],
    );
    const b = pass("b", (file) =>
      file.text.includes("RUN x")
        ? [
            {
              pass: "b",
              edits: [{ start: file.text.indexOf("x"), end: file.text.indexOf("x") + 1, newText: "z" }],
              reason: "x→z",
              safety: "safe",
            },
          ]
        : [],
    );
    const result = run("FROM a\nRUN x\n", [a, b]);
    expect(result.output).toBe("FROM a\nRUN y\n");
    expect(result.applied.map((c) => c.pass)).toEqual(["a"]);
  });

  it("applies unsafe changes only when asked, and reports them otherwise", () => {
    const risky = pass("risky", (file) =>
      file.text.includes("debian")
        ? [
            {
              pass: "risky",
              edits: [{ start: 5, end: 11, newText: "ubuntu" }],
              reason: "swap",
              safety: "unsafe",
              unsafeBecause: "different base",
            },
          ]
        : [],
    );
    const dry = run("FROM debian\n", [risky]);
    expect(dry.output).toBe("FROM debian\n");
    expect(dry.notApplied).toMatchObject([{ pass: "risky", why: "unsafe", unsafeBecause: "different base", line: 1 }]);
    expect(run("FROM debian\n", [risky], true).output).toBe("FROM ubuntu\n");
  });

  it("never writes a result that no longer parses", () => {
    const breaker = pass("breaker", (file) =>
      file.text.includes("FROM")
        ? [{ pass: "breaker", edits: [{ start: 0, end: 4, newText: "FORM" }], reason: "typo", safety: "safe" }]
        : [],
    );
    const result = run("FROM a\nrun x\n", [breaker, upperRun]);
    expect(result.output).toBe("FROM a\nRUN x\n");
    expect(result.notApplied).toMatchObject([{ pass: "breaker", why: "broke-parse" }]);
  });

  it("never turns a RUN that parses as shell into one that doesn't", () => {
    const unquote = pass("unquote", (file) =>
      file.text.includes("'a'")
        ? [
            {
              pass: "unquote",
              edits: [{ start: file.text.indexOf("'a'"), end: file.text.indexOf("'a'") + 1, newText: "" }],
              reason: "q",
              safety: "safe",
            },
          ]
        : [],
    );
    const result = run("FROM a\nRUN echo 'a'\n", [unquote]);
    expect(result.output).toBe("FROM a\nRUN echo 'a'\n");
  });

  it("isolates a crashing pass and keeps the others", () => {
    const crash = pass("crash", () => {
      throw new Error("boom");
    });
    const result = run("FROM a\nrun x\n", [crash, upperRun]);
    expect(result.output).toBe("FROM a\nRUN x\n");
    expect(result.passFailures).toEqual([{ pass: "crash", message: "boom" }]);
  });

  it("merges overlapping deletions of one change (adjacent words removed one by one)", () => {
    // Removes "a " and " b" (they share the blank) while the file still has " a b ".
    const dropAB = (text: string) => {
      const at = text.indexOf("a b");
      return pass("drop-ab", (file) =>
        file.text.includes(" a b ")
          ? [
              {
                pass: "drop-ab",
                edits: [
                  { start: at, end: at + 2, newText: "" },
                  { start: at + 1, end: at + 3, newText: "" },
                ],
                reason: "drop a and b",
                safety: "safe",
              },
            ]
          : [],
      );
    };
    const text = "FROM a\nRUN apt-get install a b c\n";
    const result = run(text, [dropAB(text)]);
    expect(result.output).toBe("FROM a\nRUN apt-get install  c\n");
    expect(result.passFailures).toEqual([]);

    // When they were all a continued line held, the line goes, not just the words.
    const continued = "FROM a\nRUN apt-get install \\\n    a b \\\n    c\n";
    expect(run(continued, [dropAB(continued)]).output).toBe("FROM a\nRUN apt-get install \\\n    c\n");
  });

  it("never lets an edit swallow an instruction it didn't touch (a continuation left before a blank line)", () => {
    // Deleting the last word of the RUN but not its continuation: Docker would
    // skip the blank line and read "VOLUME /data" as words of the RUN.
    const text = "FROM a\nRUN rm -rf /tmp/x \\\n    /var/lib/apt/lists/*\n\nVOLUME /data\n";
    const at = text.indexOf("/var/lib");
    const dangling = pass("dangling", (file) =>
      file.text.includes("/var/lib/apt")
        ? [
            {
              pass: "dangling",
              edits: [{ start: at, end: at + "/var/lib/apt/lists/*".length, newText: "" }],
              reason: "drop the lists cleanup",
              safety: "safe",
            },
          ]
        : [],
    );
    const result = run(text, [dangling]);
    expect(result.output).toBe(text);
    expect(result.notApplied).toEqual([expect.objectContaining({ pass: "dangling", why: "broke-parse" })]);
  });

  it("treats overlapping replacements as a crash of that pass: no exception, the others still apply", () => {
    const overlapping = pass("overlapping", () => [
      {
        pass: "overlapping",
        edits: [
          { start: 0, end: 4, newText: "from" },
          { start: 2, end: 6, newText: "xx" },
        ],
        reason: "bad",
        safety: "safe",
      },
    ]);
    const result = run("FROM a\nrun x\n", [overlapping, upperRun]);
    expect(result.output).toBe("FROM a\nRUN x\n");
    expect(result.passFailures).toEqual([
      { pass: "overlapping", message: expect.stringMatching(/overlapping or out-of-range edits/) },
    ]);
  });

  it("stops after the round limit when a pass never settles", () => {
    let n = 0;
    const flip = pass("flip", (file) => [
      {
        pass: "flip",
        edits: [{ start: file.text.length, end: file.text.length, newText: `# ${n++}\n` }],
        reason: "grow",
        safety: "safe",
      },
    ]);
    const result = run("FROM a\n", [flip]);
    expect(result.converged).toBe(false);
    expect(result.rounds).toBe(10);
  });

  it("keeps CRLF, the BOM, a missing final newline and untouched bytes", () => {
    const input = "\uFEFFFROM a\r\n#  spaced   comment\r\nrun x\r\nRUN   y";
    const result = run(input, [upperRun]);
    expect(result.output).toBe("\uFEFFFROM a\r\n#  spaced   comment\r\nRUN x\r\nRUN   y");
  });
});

describe("unified diff", () => {
  it("applies with git apply and names the passes in hunk headers", () => {
    const input = "FROM a\nrun x\n" + "# filler\n".repeat(10) + "run y";
    const result = run(input, [upperRun]);
    const diff = unifiedDiff(result.input, result.output, { path: "Dockerfile", changes: result.applied });
    expect(diff).toMatch(
      /^diff --git a\/Dockerfile b\/Dockerfile\n--- a\/Dockerfile\n\+\+\+ b\/Dockerfile\n@@ -1,5 \+1,5 @@ upper-run\n/,
    );
    expect(diff).toContain("\\ No newline at end of file");
    const dir = mkdtempSync(path.join(tmpdir(), "dfopt-diff-"));
    try {
      writeFileSync(path.join(dir, "Dockerfile"), input);
      writeFileSync(path.join(dir, "p.patch"), diff);
      execFileSync("git", ["apply", "p.patch"], { cwd: dir });
      expect(readFileSync(path.join(dir, "Dockerfile"), "utf8")).toBe(result.output);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("is empty when nothing changed", () => {
    expect(unifiedDiff("FROM a\n", "FROM a\n", { path: "Dockerfile" })).toBe("");
  });
});

describe("context files", () => {
  it("are proposed on the settled Dockerfile when the build context is known, and diffed as new files", async () => {
    const { contextFileDiff } = await import("../src/diff.js");
    const proposer: Pass = {
      ...upperRun,
      meta: { ...upperRun.meta, id: "proposer" },
      run: () => ({ changes: [], skips: [] }),
      contextFiles: (file) => [
        { path: ".dockerignore", oldText: null, newText: `# ${file.instructions.length} instructions\n.git\n` },
      ],
    };
    const buildContext = { dockerignore: null, exists: () => false, readText: () => null };
    const withContext = optimize("FROM a\nrun x\n", {
      passes: [upperRun, proposer],
      passOptions: { ...defaultPassOptions, buildContext },
      unsafe: false,
    });
    expect(withContext.contextFiles).toEqual([
      { pass: "proposer", path: ".dockerignore", oldText: null, newText: "# 2 instructions\n.git\n" },
    ]);
    expect(run("FROM a\n", [proposer]).contextFiles).toEqual([]);
    const diff = contextFileDiff(null, "# x\n.git\n", "app/.dockerignore", "proposer");
    expect(diff).toBe(
      "diff --git a/app/.dockerignore b/app/.dockerignore\nnew file mode 100644\n--- /dev/null\n+++ b/app/.dockerignore\n@@ -0,0 +1,2 @@ proposer\n+# x\n+.git\n",
    );
  });
});
