/**
 * The worker pool: results come back in task order whatever the
 * scheduling, match in-process results, and a worker that dies or hangs
 * costs only its file. Worker tests load the built worker (dist/), rebuilt
 * first if the sources are newer.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt } from "./support/built.js";
import { allPasses } from "../passes/index.js";
import { Batch, IN_PROCESS_BELOW, OrderedEmitter, usesWorkers } from "../src/batch.js";
import { batchReportJson, batchReportMarkdown, summaryTable, totals, type FileRecord } from "../src/report.js";
import { sarifLog } from "../src/sarif.js";
import type { Task, TaskResult } from "../src/worker.js";

const ROOT = path.resolve(import.meta.dirname, "..");
const WORKER_URL = pathToFileURL(path.join(ROOT, "dist/src/worker.js"));

let dir = "";
const DOCKERFILE = (i: number) => `FROM debian:12\nMAINTAINER dev${i} <dev${i}@example.com>\nRUN echo ${i}\n`;

function makeTasks(n: number, extra: Record<number, string> = {}): Task[] {
  const tasks: Task[] = [];
  for (let i = 0; i < n; i++) {
    const name = extra[i] ?? `f${String(i).padStart(3, "0")}.Dockerfile`;
    const file = path.join(dir, name);
    writeFileSync(file, DOCKERFILE(i));
    tasks.push({ id: i, path: file, display: name, options: {}, explicit: false, patchPath: null });
  }
  return tasks;
}

async function runAll(tasks: Task[], jobs: number, env: Record<string, string> = {}, timeoutMs?: number) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  const results: TaskResult[] = [];
  try {
    await new Batch(tasks, {
      jobs,
      workerUrl: WORKER_URL,
      taskTimeoutMs: timeoutMs,
      onResult: (r) => results.push(r),
    }).run();
  } finally {
    for (const k of Object.keys(env)) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  }
  return results;
}

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(path.join(tmpdir(), "dfopt-batch-"));
  mkdirSync(dir, { recursive: true });
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("OrderedEmitter", () => {
  it("emits results in id order whatever order they arrive in", () => {
    const seen: number[] = [];
    const e = new OrderedEmitter((r) => seen.push(r.id));
    const r = (id: number): TaskResult => ({ id, ms: 0, outcome: { path: "", status: "skipped", message: "" } });
    for (const id of [3, 1, 0, 2, 5, 4]) e.push(r(id));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });
});

describe("Batch", () => {
  it("runs small batches in-process and large ones on workers", () => {
    expect(usesWorkers(IN_PROCESS_BELOW - 1, 4)).toBe(false);
    expect(usesWorkers(IN_PROCESS_BELOW, 4)).toBe(true);
    expect(usesWorkers(1000, 1)).toBe(false);
  });

  it("workers (native tree-sitter parser included) give the same results, in order, as in-process", async () => {
    const tasks = makeTasks(40);
    const inProcess = await runAll(tasks, 1);
    const onWorkers = await runAll(tasks, 3);
    expect(onWorkers.map((r) => r.id)).toEqual(tasks.map((t) => t.id));
    const strip = (rs: TaskResult[]) => rs.map((r) => r.outcome);
    expect(strip(onWorkers)).toEqual(strip(inProcess));
    expect(onWorkers.every((r) => r.outcome.status === "changed")).toBe(true);
  }, 60_000);

  it("a worker that dies costs only the file it was on", async () => {
    const tasks = makeTasks(20, { 7: "crash.Dockerfile" });
    const results = await runAll(tasks, 2, { DFOPT_TEST_CRASH_FILE: "crash.Dockerfile" });
    expect(results.map((r) => r.id)).toEqual(tasks.map((t) => t.id));
    const crashed = results[7]!.outcome;
    expect(crashed.status).toBe("error");
    expect(crashed.status === "error" && crashed.message).toMatch(/worker thread died while processing this file/);
    expect(results.filter((r) => r.outcome.status === "changed")).toHaveLength(19);
  }, 60_000);

  it("a file that hangs is stopped after the timeout; the batch goes on", async () => {
    const tasks = makeTasks(12, { 3: "hang.Dockerfile" });
    const results = await runAll(tasks, 2, { DFOPT_TEST_HANG_FILE: "hang.Dockerfile" }, 1500);
    const hung = results[3]!.outcome;
    expect(hung.status === "error" && hung.message).toMatch(/took longer than 2 s/);
    expect(results.filter((r) => r.outcome.status === "changed")).toHaveLength(11);
  }, 60_000);

  it("workers that can't start: the batch finishes in-process, with a warning, blaming no file", async () => {
    const broken = path.join(dir, "broken-worker.mjs");
    writeFileSync(broken, 'throw new Error("cannot load");\n');
    const tasks = makeTasks(12);
    const warnings: string[] = [];
    const results: TaskResult[] = [];
    await new Batch(tasks, {
      jobs: 2,
      workerUrl: pathToFileURL(broken),
      onResult: (r) => results.push(r),
      onWarning: (w) => warnings.push(w),
    }).run();
    expect(results.map((r) => r.id)).toEqual(tasks.map((t) => t.id));
    expect(results.every((r) => r.outcome.status === "changed")).toBe(true);
    expect(warnings).toEqual([expect.stringMatching(/worker threads could not start \(cannot load\)/)]);
  }, 60_000);

  it("abort stops dispatching and resolves once the workers are gone", async () => {
    const tasks = makeTasks(200);
    let seen = 0;
    const batch = new Batch(tasks, {
      jobs: 2,
      workerUrl: WORKER_URL,
      onResult: () => {
        if (++seen === 10) batch.abort();
      },
    });
    await batch.run();
    expect(seen).toBeGreaterThanOrEqual(10);
    expect(seen).toBeLessThan(200);
  }, 60_000);
});

describe("batch reports", () => {
  const change = (pass: string, line: number, safety: "safe" | "unsafe" = "safe") => ({
    pass,
    reason: `${pass} reason`,
    safety,
    line,
    endLine: line + 1,
  });
  const records: FileRecord[] = [
    {
      path: "r1/Dockerfile",
      repository: "r1",
      status: "changed",
      changes: [change("maintainer-to-label", 2)],
      notApplied: [{ ...change("apt-hygiene", 5, "unsafe"), unsafeBecause: "maybe", why: "unsafe" }],
      skips: [{ pass: "cache-mounts", line: 7, reason: "not root" }],
      passFailures: [{ pass: "chain-runs", message: "boom" }],
    },
    {
      path: "r1/b/Dockerfile",
      repository: "r1",
      status: "unchanged",
      changes: [],
      notApplied: [],
      skips: [],
      passFailures: [],
    },
    {
      path: "r2/Dockerfile",
      repository: "r2",
      status: "error",
      changes: [],
      notApplied: [],
      skips: [],
      passFailures: [],
      message: "unknown instruction",
      line: 3,
    },
  ];

  it("totals count files by status and changes, unsafe, skips and failures per pass", () => {
    const t = totals(records);
    expect(t).toMatchObject({ files: 3, changed: 1, unchanged: 1, errors: 1, skipped: 0, changes: 1 });
    expect(t.byPass["maintainer-to-label"]).toMatchObject({ changes: 1, files: 1 });
    expect(t.byPass["apt-hygiene"]).toMatchObject({ unsafeNotApplied: 1 });
    expect(t.byPass["cache-mounts"]).toMatchObject({ skips: 1 });
    expect(t.byPass["chain-runs"]).toMatchObject({ failures: 1 });
    const table = summaryTable(t, 2, { mode: "write" });
    expect(table).toMatch(/dfopt write: 3 files scanned in 2\.0 s/);
    expect(table).toMatch(/chain-runs\s+0\s+0\s+0\s+0\s+1/);
  });

  it("JSON and Markdown reports account for every file, grouped by repository, with pass crashes and errors", () => {
    const input = { version: "1", mode: "write" as const, records, passIds: [], problems: [], ignored: [] };
    const json = batchReportJson(input) as {
      repositories: { path: string; files: { path: string }[] }[];
      errors: unknown[];
    };
    expect(json.repositories.map((r) => [r.path, r.files.map((f) => f.path)])).toEqual([
      ["r1", ["r1/Dockerfile", "r1/b/Dockerfile"]],
      ["r2", ["r2/Dockerfile"]],
    ]);
    expect(json.errors).toEqual([{ path: "r2/Dockerfile", line: 3, message: "unknown instruction" }]);
    const md = batchReportMarkdown(input);
    expect(md).toContain("`chain-runs` **crashed** (pass skipped for this file): boom");
    expect(md).toContain("not applied, unsafe: maybe (use --unsafe)");
    expect(md).toContain("line 7 `cache-mounts` left alone: not root");
    expect(md).toContain("Unchanged, nothing to report: `r1/b/Dockerfile`");
  });

  it("SARIF: a rule per pass, a result per change, notifications for crashes and errors", () => {
    const log = sarifLog({
      version: "1",
      passes: allPasses,
      records,
      uriOf: (p) => p,
      rootUri: "file:///src/",
    }) as {
      runs: {
        tool: { driver: { rules: { id: string }[] } };
        results: { ruleId: string; ruleIndex: number; level: string }[];
        invocations: { toolExecutionNotifications: { level: string; message: { text: string } }[] }[];
      }[];
    };
    const run = log.runs[0]!;
    expect(run.tool.driver.rules.map((r) => r.id)).toEqual(allPasses.map((p) => p.meta.id));
    expect(run.results.map((r) => [r.ruleId, r.level])).toEqual([
      ["maintainer-to-label", "warning"],
      ["apt-hygiene", "note"],
    ]);
    for (const r of run.results) expect(run.tool.driver.rules[r.ruleIndex]!.id).toBe(r.ruleId);
    const notes = run.invocations[0]!.toolExecutionNotifications;
    expect(notes.map((n) => n.level)).toEqual(["warning", "error"]);
    expect(notes[0]!.message.text).toMatch(/chain-runs crashed/);
  });
});
