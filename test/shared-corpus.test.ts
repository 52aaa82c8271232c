/**
 * Every real-world Dockerfile in ../shared/corpus goes through dfopt with all
 * default passes: no crash, output re-parses, a second run changes nothing,
 * the diff applied with `git apply` gives exactly the written result, and
 * every comment line of the input survives.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerfileError, optimizeDockerfile } from "../src/api.js";
import { parseDockerfile } from "../src/dockerfile.js";
import { parseShell, type ShellScript, type Statement } from "../src/shell.js";
import { unifiedDiff } from "../src/diff.js";
import type { OptimizeResult } from "../src/pipeline.js";
import { hasBash, rejectedByBash, runBodies } from "./support/bash-syntax.js";
import { sharedCorpusFiles } from "./support/shared-corpus.js";

const files = sharedCorpusFiles();
const results = new Map<string, OptimizeResult>();
const unsafeResults = new Map<string, OptimizeResult>();
const rejected = new Map<string, string>();

beforeAll(() => {
  for (const f of files) {
    try {
      results.set(f.name, optimizeDockerfile(f.text));
    } catch (error) {
      // Only a clear "this is not a valid Dockerfile" refusal is acceptable.
      if (error instanceof DockerfileError) rejected.set(f.name, error.message);
      else throw error;
    }
  }
}, 120_000);

describe.skipIf(files.length === 0)("shared corpus (real Dockerfiles)", () => {
  it("goes through without a crash; only invalid Dockerfiles are refused", () => {
    expect(results.size + rejected.size).toBe(files.length);
    // Refusals are for files Docker itself would reject: comment-only
    // exercise files, templates with placeholder lines, instructions before FROM.
    const invalid = /has no instructions|unknown instruction|comes before the first FROM|no FROM instruction/;
    for (const [name, message] of rejected) expect(message, name).toMatch(invalid);
    expect(rejected.size / files.length).toBeLessThan(0.08);
    for (const r of results.values()) {
      expect(r.passFailures).toEqual([]);
      expect(r.converged).toBe(true);
    }
  });

  it("every output re-parses and is a fixed point (idempotent)", () => {
    for (const [name, r] of results) {
      if (r.output === r.input) continue;
      expect(() => parseDockerfile(r.output), name).not.toThrow();
      expect(optimizeDockerfile(r.output).output, name).toBe(r.output);
    }
  }, 120_000);

  // A pass may drop a whole command (`apt-get clean > /dev/null` against a
  // cache mount) but never a command's redirect while the command stays: an
  // edit that lands between `echo x` and `> /etc/file` changes what the
  // build writes.
  it("a redirect goes only with its command", () => {
    for (const [name, r] of results) {
      if (r.output === r.input) continue;
      const before = redirectsByCommand(r.input);
      const after = redirectsByCommand(r.output);
      for (const [command, redirects] of before) {
        const kept = after.get(command);
        if (!kept) continue; // the command went, with its redirects
        for (const redirect of redirects) {
          expect(kept, `${name}: ${command} lost ${redirect}`).toContain(redirect);
        }
      }
    }
  });

  // Unsafe changes are applied on request: the engine guarantees must hold there too.
  it("with --unsafe too: no crash, no pass failure, converged, re-parses, idempotent", () => {
    for (const f of files) {
      if (rejected.has(f.name)) continue;
      const r = optimizeDockerfile(f.text, { unsafe: true });
      unsafeResults.set(f.name, r);
      expect(r.passFailures, f.name).toEqual([]);
      expect(r.converged, f.name).toBe(true);
      if (r.output === r.input) continue;
      expect(() => parseDockerfile(r.output), f.name).not.toThrow();
      expect(optimizeDockerfile(r.output, { unsafe: true }).output, f.name).toBe(r.output);
    }
  }, 180_000);

  // dfopt's own parser accepting a RUN body is not enough: a real shell must.
  // Every shell-form RUN body an output has and its input hasn't (as the
  // shell sees it) goes through bash -n, default and --unsafe.
  it.skipIf(!hasBash)(
    "every RUN body dfopt writes passes bash -n",
    () => {
      expect(rejectedByBash(["echo ok", "if then", "case x in a) echo;; esac", "echo 'open"])).toEqual([
        "if then",
        "echo 'open",
      ]);
      for (const outcome of [results, unsafeResults]) {
        const changed = [...outcome.values()]
          .filter((r) => r.output !== r.input)
          .map((r) => ({ before: runBodies(r.input), after: runBodies(r.output) }));
        // Input bodies bash already rejects are not dfopt's doing: files with one are left out.
        const badInputs = new Set(rejectedByBash([...new Set(changed.flatMap((c) => [...c.before]))]));
        const written = new Set<string>();
        for (const { before, after } of changed) {
          if ([...before].some((b) => badInputs.has(b))) continue;
          for (const body of after) if (!before.has(body)) written.add(body);
        }
        expect(written.size).toBeGreaterThan(1000);
        expect(rejectedByBash([...written])).toEqual([]);
      }
    },
    120_000,
  );

  it("keeps every comment line of the input", () => {
    for (const [name, r] of results) {
      if (r.output === r.input) continue;
      const outputLines = new Set(r.output.split(/\r?\n/).map((l) => l.trim()));
      for (const line of r.input.split(/\r?\n/)) {
        const t = line.trim();
        if (t.startsWith("#")) expect(outputLines.has(t), `${name}: lost comment ${t}`).toBe(true);
      }
    }
  });

  describe("the diff applied with git apply gives the written result", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), "dfopt-apply-"));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it("for every changed file, in one combined patch", () => {
      let patch = "";
      const changed: [string, OptimizeResult][] = [];
      for (const [name, r] of results) {
        if (r.output === r.input) continue;
        const rel = `files/${name}`;
        mkdirSync(path.join(dir, "files"), { recursive: true });
        writeFileSync(path.join(dir, rel), r.input);
        patch += unifiedDiff(r.input, r.output, { path: rel, changes: r.applied });
        changed.push([rel, r]);
      }
      if (changed.length === 0) return;
      writeFileSync(path.join(dir, "all.patch"), patch);
      execFileSync("git", ["apply", "--whitespace=nowarn", "all.patch"], { cwd: dir, stdio: "pipe" });
      for (const [rel, r] of changed) expect(readFileSync(path.join(dir, rel), "utf8"), rel).toBe(r.output);
    });
  });
});

/** Redirects ("> /etc/k") of every command (by its words), subshell bodies included. */
function redirectsByCommand(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (statements: readonly Statement[], source: string) => {
    for (const statement of statements) {
      for (const pipeline of statement.andOr.pipelines) {
        for (const command of pipeline.commands) {
          if (command.kind === "simple") {
            const key = command.words.map((w) => w.source).join(" ");
            const list = out.get(key) ?? [];
            list.push(...command.redirects.map((x) => `${x.op} ${x.target}`));
            out.set(key, list);
          } else if (command.kind === "subshell") {
            const inner = parseShell(source.slice(command.start + 1, command.end - 1));
            if (inner.ok) walk(inner.script.statements, inner.script.source);
          } else {
            walk(command.inner, source);
          }
        }
      }
    }
  };
  for (const node of parseDockerfile(text).instructions) {
    const script: ShellScript | null = node.shell?.parse.ok ? node.shell.parse.script : null;
    if (script) walk(script.statements, script.source);
  }
  return out;
}
