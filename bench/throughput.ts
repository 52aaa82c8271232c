/**
 * Throughput benchmark (`npm run bench`; never a timed unit test).
 *
 * Over every real Dockerfile in ../shared/corpus/files, read into memory
 * first, each measured in its own child process (so JIT state and peak RSS
 * are its own):
 *   - dfopt in one thread (optimize + diff, what the CLI does per file),
 *   - dfopt on the worker pool (src/batch.ts, one worker per CPU),
 *   - what parsing alone costs (dockerfile-ast; plus the shell trees of RUN
 *     bodies): the floor under any rewrite that reasons from syntax trees,
 *   - dockerfile-utils (validate + format), dockerfilelint (run),
 * as files/second, per-file p50/p99 latency and peak RSS, printed side by
 * side as ratios against dfopt. Then the end-to-end CLI wall time for the
 * whole corpus directory, and a fix-mode comparison with tally (when its npm
 * binary package installs): wall time, files changed, idempotence, comments
 * kept. Results go to bench/results/throughput.json (gitignored).
 */
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const CORPUS = path.resolve(ROOT, "../shared/corpus/files");
const RESULTS = path.join(ROOT, "bench/results");
const BIN = path.join(ROOT, "bin/dfopt.js");
const require = createRequire(import.meta.url);

interface Measure {
  tool: string;
  files: number;
  errors: number;
  seconds: number;
  filesPerSecond: number;
  p50ms: number;
  p99ms: number;
  peakRssMB: number;
}

interface Corpus {
  names: string[];
  texts: string[];
}

function loadCorpus(): Corpus {
  const names = readdirSync(CORPUS)
    .filter((f) => f !== "MANIFEST.tsv")
    .sort();
  return { names, texts: names.map((n) => readFileSync(path.join(CORPUS, n), "utf8")) };
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarize(tool: string, latencies: number[], errors: number, seconds: number): Measure {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    tool,
    files: latencies.length,
    errors,
    seconds,
    filesPerSecond: latencies.length / seconds,
    p50ms: percentile(sorted, 50),
    p99ms: percentile(sorted, 99),
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  };
}

/**
 * Times fn over every file, after a short untimed warm-up. Yields to the
 * event loop every few files, as the CLI does between files: tree-sitter
 * frees its native trees in finalizers that only run on an event-loop turn,
 * so a tight synchronous loop would measure a memory growth no real run has.
 */
async function timeEach(tool: string, corpus: Corpus, fn: (text: string) => void): Promise<Measure> {
  for (const text of corpus.texts.slice(0, 100)) {
    try {
      fn(text);
    } catch {
      // warm-up only
    }
  }
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  for (const text of corpus.texts) {
    const t = performance.now();
    try {
      fn(text);
    } catch {
      errors++;
    }
    latencies.push(performance.now() - t);
    if (latencies.length % 16 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  return summarize(tool, latencies, errors, (performance.now() - start) / 1000);
}

// --- child modes ------------------------------------------------------------

async function child(mode: string): Promise<Measure> {
  const corpus = loadCorpus();
  // dfopt is measured as its command line runs it: V8 tuned before any dfopt code loads.
  if (mode.startsWith("dfopt")) await import("../src/v8-tuning.js");
  if (mode === "dfopt") {
    const { processText } = await import("../src/process.js");
    return timeEach("dfopt (1 thread)", corpus, (text) => {
      const o = processText(text, "Dockerfile", {});
      if (o.status === "error") throw new Error(o.message);
    });
  }
  if (mode === "dfopt-workers") {
    const { Batch } = await import("../src/batch.js");
    // One worker per CPU (at least two, so the pool is measured even on one CPU).
    const jobs = Math.max(2, availableParallelism());
    const tasks = corpus.names.map((name, id) => ({
      id,
      path: path.join(CORPUS, name),
      display: name,
      options: {},
      explicit: false,
      patchPath: null,
    }));
    const latencies: number[] = [];
    let errors = 0;
    const start = performance.now();
    await new Batch(tasks, {
      jobs,
      onResult: (r) => {
        latencies.push(r.ms);
        if (r.outcome.status === "error") errors++;
      },
    }).run();
    return summarize(`dfopt (${jobs} workers)`, latencies, errors, (performance.now() - start) / 1000);
  }
  // Reference rows, not tools: what parsing alone costs, before any pass runs.
  // Every rewrite needs the Dockerfile parse (dockerfile-ast) and the shell
  // syntax tree of each RUN body (tree-sitter-bash), once per round.
  if (mode === "parse-dockerfile") {
    const { DockerfileParser } = await import("dockerfile-ast");
    return timeEach("floor: dockerfile-ast parse only", corpus, (text) => void DockerfileParser.parse(text));
  }
  if (mode === "parse-all") {
    const { parseDockerfile } = await import("../src/dockerfile.js");
    return timeEach("floor: + shell trees of RUN bodies", corpus, (text) => {
      for (const node of parseDockerfile(text).instructions) void node.shell;
    });
  }
  if (mode === "dockerfile-utils") {
    const utils = (await import("dockerfile-utils")) as typeof import("dockerfile-utils");
    return timeEach("dockerfile-utils (validate+format)", corpus, (text) => {
      utils.validate(text);
      utils.format(text, { insertSpaces: true, tabSize: 4 });
    });
  }
  if (mode === "dockerfilelint") {
    const lint = require("dockerfilelint") as { run(configDir: string, content: string): unknown[] };
    const configDir = mkdtempSync(path.join(tmpdir(), "dfopt-bench-lint-"));
    try {
      return timeEach("dockerfilelint", corpus, (text) => void lint.run(configDir, text));
    } finally {
      rmSync(configDir, { recursive: true, force: true });
    }
  }
  throw new Error(`unknown mode ${mode}`);
}

function runChild(mode: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), "--child", mode], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    p.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    p.on("exit", (code) => {
      if (code !== 0) reject(new Error(`${mode} exited ${code}`));
      else resolve(JSON.parse(out) as Measure);
    });
  });
}

// --- end to end ---------------------------------------------------------------

const TIME = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/** Wall seconds and peak RSS (MB, via /usr/bin/time when installed) of a command. */
function timed(cmd: string, args: string[], cwd: string): { seconds: number; peakRssMB: number | null; code: number } {
  const out = path.join(tmpdir(), `dfopt-bench-time-${process.pid}`);
  const start = performance.now();
  const r = TIME
    ? spawnSync(TIME, ["-o", out, "-f", "%M", cmd, ...args], { cwd, stdio: "ignore" })
    : spawnSync(cmd, args, { cwd, stdio: "ignore" });
  const seconds = (performance.now() - start) / 1000;
  let rss: number | null = null;
  if (TIME && existsSync(out)) {
    rss = Number(/(\d+)\s*$/.exec(readFileSync(out, "utf8"))?.[1]) / 1024;
    rmSync(out, { force: true });
  }
  return { seconds, peakRssMB: rss !== null && Number.isFinite(rss) ? rss : null, code: r.status ?? -1 };
}

interface FixComparison {
  tool: string;
  seconds: number;
  files: number;
  changed: number;
  /** Files a second fix run changed again (0 = idempotent). */
  changedAgain: number;
  /** Changed files in which some comment line of the input is gone. */
  commentsLost: number;
  /** Files the tool refused or failed on. */
  refused: number;
  note?: string;
}

function commentLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.startsWith("#"));
}

/** The corpus as `<name>/Dockerfile`: a layout every tool recognises as Dockerfiles. */
function layout(dir: string, names: readonly string[]): string[] {
  const rel = names.map((n) => path.join(n, "Dockerfile"));
  for (const [i, n] of names.entries()) {
    mkdirSync(path.join(dir, n), { recursive: true });
    cpSync(path.join(CORPUS, n), path.join(dir, rel[i]!));
  }
  return rel;
}

function compareTrees(before: string, after: string, files: readonly string[]) {
  let changed = 0;
  let commentsLost = 0;
  for (const f of files) {
    const a = readFileSync(path.join(before, f), "utf8");
    const b = readFileSync(path.join(after, f), "utf8");
    if (a === b) continue;
    changed++;
    const kept = new Set(commentLines(b));
    if (commentLines(a).some((c) => !kept.has(c))) commentsLost++;
  }
  return { changed, commentsLost };
}

function dfoptFix(files: readonly string[], pristine: string, work: string): FixComparison {
  const dir = path.join(work, "dfopt");
  cpSync(pristine, dir, { recursive: true });
  const args = [BIN, ".", "--write", "-q", "--no-progress"];
  const t = timed(process.execPath, args, dir);
  const snapshot = path.join(work, "dfopt-1");
  cpSync(dir, snapshot, { recursive: true });
  const first = compareTrees(pristine, dir, files);
  spawnSync(process.execPath, args, { cwd: dir, stdio: "ignore" });
  const again = compareTrees(snapshot, dir, files);
  const report = spawnSync(process.execPath, [BIN, ".", "--json", "-q", "--no-progress"], {
    cwd: pristine,
    encoding: "utf8",
    maxBuffer: 1 << 30,
  });
  const summary = (JSON.parse(report.stdout) as { summary: { errors: number; skipped: number } }).summary;
  return {
    tool: "dfopt --write",
    seconds: t.seconds,
    files: files.length,
    changed: first.changed,
    changedAgain: again.changed,
    commentsLost: first.commentsLost,
    refused: summary.errors + summary.skipped,
  };
}

function tallyBinary(): string | null {
  if (process.env.TALLY_BIN) return process.env.TALLY_BIN;
  if (process.platform !== "linux" || process.arch !== "x64") return null;
  const prefix = path.join(RESULTS, "tools");
  const bin = path.join(prefix, "node_modules/@wharflab/tally-linux-x64/bin/tally");
  if (!existsSync(bin)) {
    mkdirSync(prefix, { recursive: true });
    spawnSync(
      "npm",
      ["install", "--no-save", "--no-audit", "--no-fund", "--prefix", prefix, "@wharflab/tally-linux-x64"],
      { stdio: "ignore" },
    );
  }
  return existsSync(bin) ? bin : null;
}

function tallyFix(files: readonly string[], pristine: string, work: string): FixComparison | null {
  const tally = tallyBinary();
  if (!tally) return null;
  const version = spawnSync(tally, ["--version"], { encoding: "utf8" }).stdout.trim();
  const args = ["lint", "--fix", "--no-color", "--slow-checks", "off", "--fail-level", "none", "-o", "/dev/null"];
  // tally stops a whole run at the first file it can't lint, so find those first (untimed).
  const probe = path.join(work, "tally-probe");
  cpSync(pristine, probe, { recursive: true });
  const refused = new Set<string>();
  for (let i = 0; i < files.length; i += 200) {
    let chunk = files.slice(i, i + 200);
    while (chunk.length > 0) {
      const r = spawnSync(tally, [...args, ...chunk], { cwd: probe, encoding: "utf8" });
      if (r.status === 0) break;
      // "Error: failed to lint <file>: …": drop that file and run the rest again.
      const stderr = r.stderr ?? "";
      const bad = (/failed to lint (\S+?): /.exec(stderr) ?? /Error: (\S+) is not a/.exec(stderr))?.[1];
      if (bad && chunk.includes(bad)) {
        refused.add(bad);
        chunk = chunk.filter((f) => f !== bad);
        continue;
      }
      for (const f of chunk) {
        if (spawnSync(tally, [...args, f], { cwd: probe, stdio: "ignore" }).status !== 0) refused.add(f);
      }
      break;
    }
  }
  const ok = files.filter((f) => !refused.has(f));
  const dir = path.join(work, "tally");
  cpSync(pristine, dir, { recursive: true });
  const t = timed(tally, [...args, ...ok], dir);
  const snapshot = path.join(work, "tally-1");
  cpSync(dir, snapshot, { recursive: true });
  const first = compareTrees(pristine, dir, ok);
  spawnSync(tally, [...args, ...ok], { cwd: dir, stdio: "ignore" });
  const again = compareTrees(snapshot, dir, ok);
  return {
    tool: `tally lint --fix (${/\d+\.\d+\.\d+/.exec(version)?.[0] ?? version})`,
    seconds: t.seconds,
    files: files.length,
    changed: first.changed,
    changedAgain: again.changed,
    commentsLost: first.commentsLost,
    refused: refused.size,
    note: "safe fixes only; files tally refuses are left out of the timed run",
  };
}

// --- main -------------------------------------------------------------------------

const fmt = (n: number, digits = 1) => n.toFixed(digits);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "))
    .join("\n");
}

/**
 * Generated files far larger than hand-written ones (thousands of RUNs, which
 * chain-runs merges into one; thousands of `&&`s): their time must grow
 * about linearly, not explode (1,000 apt RUNs once took 376 s).
 */
async function largeFiles(): Promise<{ file: string; kb: number; seconds: number; rounds: number }[]> {
  const { optimizeDockerfile } = await import("../src/api.js");
  const runs = (n: number, body: (i: number) => string) =>
    `FROM debian:bookworm\n${Array.from({ length: n }, (_, i) => `RUN ${body(i)}`).join("\n")}\n`;
  const cases: [string, string][] = [
    ["1,000 apt RUNs", runs(1000, (i) => `apt-get update && apt-get install -y p${i} && rm -rf /var/lib/apt/lists/*`)],
    ["4,000 RUNs (merged into one)", runs(4000, (i) => `echo ${i} > /tmp/f${i}`)],
    ["one RUN of 20,000 &&s", runs(1, () => Array.from({ length: 20_000 }, (_, i) => `echo ${i}`).join(" && "))],
    [
      "1,000 users switched with USER",
      runs(1000, (i) => `useradd u${i}\nUSER u${i}\nRUN pip install --user p${i}\nUSER root`),
    ],
    [
      "1,000 stages",
      Array.from(
        { length: 1000 },
        (_, i) =>
          `FROM python:3.11-slim AS s${i}\nRUN apt-get update && apt-get install -y gcc\nRUN pip install x${i}\n`,
      ).join(""),
    ],
  ];
  const out = [];
  for (const [file, text] of cases) {
    const started = performance.now();
    const result = optimizeDockerfile(text);
    out.push({ file, kb: text.length / 1024, seconds: (performance.now() - started) / 1000, rounds: result.rounds });
  }
  console.log("\nGenerated large files (in process, all default passes):\n");
  console.log(
    table([
      ["file", "KB", "seconds", "rounds"],
      ...out.map((r) => [r.file, fmt(r.kb, 0), fmt(r.seconds, 2), String(r.rounds)]),
    ]),
  );
  return out;
}

async function main(): Promise<void> {
  if (!existsSync(CORPUS)) {
    console.error(`no corpus at ${CORPUS}`);
    process.exit(2);
  }
  const names = loadCorpus().names;
  console.log(
    `corpus: ${names.length} Dockerfiles; ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}); node ${process.version}; ` +
      `load average ${loadavg()[0]!.toFixed(1)} (figures are only comparable on an idle machine)\n`,
  );

  // `npm run bench -- --only perfile,cli,fix` runs a subset.
  const onlyArg = process.argv.indexOf("--only");
  const sections = new Set(
    onlyArg > 0 ? (process.argv[onlyArg + 1] ?? "").split(",") : ["perfile", "cli", "fix", "large"],
  );

  const measures: Measure[] = [];
  if (sections.has("perfile")) {
    for (const mode of [
      "dfopt",
      "dfopt-workers",
      "parse-dockerfile",
      "parse-all",
      "dockerfile-utils",
      "dockerfilelint",
    ]) {
      measures.push(await runChild(mode));
    }
    const base = measures[0]!;
    console.log("Per file (in memory; each tool in its own process):\n");
    console.log(
      table([
        ["tool", "files/s", "p50 ms", "p99 ms", "peak RSS MB", "dfopt (1 thread) speed ×", "refused"],
        ...measures.map((m) => [
          m.tool,
          fmt(m.filesPerSecond, 0),
          fmt(m.p50ms, 2),
          fmt(m.p99ms, 2),
          fmt(m.peakRssMB, 0),
          fmt(base.filesPerSecond / m.filesPerSecond, 2),
          String(m.errors),
        ]),
      ]),
    );
    console.log("\n(speed ×: dfopt (1 thread) files/s divided by the row's; above 1 means dfopt is faster.)\n");
  }

  const cli: { label: string; seconds: number; peakRssMB: number | null; code: number }[] = [];
  if (sections.has("cli")) {
    for (const c of [
      {
        label: `dfopt <corpus> --json -j ${Math.max(2, availableParallelism())} (workers)`,
        args: [BIN, CORPUS, "--json", "--no-progress", "-j", String(Math.max(2, availableParallelism()))],
      },
      { label: "dfopt <corpus> --json -j 1", args: [BIN, CORPUS, "--json", "--no-progress", "-j", "1"] },
      { label: "dfopt <corpus> --json (default jobs)", args: [BIN, CORPUS, "--json", "--no-progress"] },
    ]) {
      cli.push({ label: c.label, ...timed(process.execPath, c.args, ROOT) });
    }
    console.log("End to end (the CLI over the corpus directory):\n");
    console.log(
      table([
        ["command", "wall s", "peak RSS MB", "exit"],
        ...cli.map((c) => [
          c.label,
          fmt(c.seconds, 2),
          c.peakRssMB === null ? "n/a" : fmt(c.peakRssMB, 0),
          String(c.code),
        ]),
      ]),
    );
  }

  let fixes: FixComparison[] = [];
  if (sections.has("fix")) {
    const work = mkdtempSync(path.join(tmpdir(), "dfopt-bench-"));
    try {
      const pristine = path.join(work, "pristine");
      const files = layout(pristine, names);
      const dfopt = dfoptFix(files, pristine, work);
      const tally = tallyFix(files, pristine, work);
      fixes = tally ? [dfopt, tally] : [dfopt];
      console.log("\nFix mode over the corpus (copies laid out as <name>/Dockerfile in a temp directory):\n");
      console.log(
        table([
          ["tool", "wall s", "files changed", "changed again (2nd run)", "changed files losing a comment", "refused"],
          ...fixes.map((f) => [
            f.tool,
            fmt(f.seconds, 2),
            String(f.changed),
            String(f.changedAgain),
            String(f.commentsLost),
            String(f.refused),
          ]),
        ]),
      );
      if (tally?.note) console.log(`\n(tally: ${tally.note})`);
      if (!tally)
        console.log("\n(tally not available: set TALLY_BIN or allow `npm install @wharflab/tally-linux-x64`)");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  const large = sections.has("large") ? await largeFiles() : [];

  const targets: Record<string, boolean> = {};
  const lint = measures.find((m) => m.tool === "dockerfilelint");
  if (measures[0] && lint) {
    targets["dfopt at least as fast per file as dockerfilelint"] = measures[0].filesPerSecond >= lint.filesPerSecond;
  }
  if (cli.length > 0) targets["corpus through the CLI under 5 s"] = Math.min(...cli.map((c) => c.seconds)) < 5;
  const rss = [
    ...measures.filter((m) => m.tool.startsWith("dfopt")).map((m) => m.peakRssMB),
    ...cli.map((c) => c.peakRssMB ?? 0),
  ];
  if (rss.length > 0) targets["peak RSS under 300 MB"] = Math.max(...rss) < 300;
  console.log("\nTargets:");
  for (const [name, ok] of Object.entries(targets)) console.log(`  ${ok ? "met    " : "NOT met"}  ${name}`);

  mkdirSync(RESULTS, { recursive: true });
  const out = path.join(RESULTS, "throughput.json");
  const result = {
    date: new Date().toISOString(),
    cpus: cpus().length,
    load: loadavg(),
    node: process.version,
    files: names.length,
    perFile: measures,
    cli,
    fix: fixes,
    large,
    targets,
  };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
}

if (process.argv[2] === "--child") {
  child(process.argv[3] ?? "").then(
    (m) => process.stdout.write(JSON.stringify(m)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  void main();
}
